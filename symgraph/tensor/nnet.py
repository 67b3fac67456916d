"""``T.nnet``: the neural-network functions, as in Theano's ``theano.tensor.nnet``.

Example
-------
>>> import symgraph.tensor as T
>>> x, y = T.matrix("x"), T.lvector("y")
>>> loss = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y).mean()
"""

from symgraph.ops.nnet import binary_crossentropy as binary_crossentropy
from symgraph.ops.nnet import categorical_crossentropy as categorical_crossentropy
from symgraph.ops.nnet import log_softmax as log_softmax
from symgraph.ops.nnet import relu as relu
from symgraph.ops.nnet import sigmoid as sigmoid
from symgraph.ops.nnet import softmax as softmax
from symgraph.ops.nnet import (
    softmax_crossentropy_with_logits as softmax_crossentropy_with_logits,
)
from symgraph.ops.nnet import softplus as softplus

logsoftmax = log_softmax  # Theano's later spelling

__all__ = [
    "sigmoid",
    "softplus",
    "relu",
    "softmax",
    "log_softmax",
    "logsoftmax",
    "categorical_crossentropy",
    "binary_crossentropy",
    "softmax_crossentropy_with_logits",
]
