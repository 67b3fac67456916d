"""The tensor namespace (Theano's ``theano.tensor``): ``import symgraph.tensor as T``.

Constructors (``T.matrix``), elementwise maths (``T.exp``), reductions
(``T.sum``), shape ops (``T.reshape``), array creation (``T.zeros``),
indexing (``T.set_subtensor``), linear algebra (``T.dot``), and ``T.nnet``.
"""

# The op families publish their user-facing functions in __all__; this
# namespace gathers them.
from symgraph.ops.creation import *  # noqa: F403
from symgraph.ops.math import *  # noqa: F403
from symgraph.ops.reduce import *  # noqa: F403
from symgraph.ops.shape import *  # noqa: F403
from symgraph.tensor import _families
from symgraph.tensor.basic import *  # noqa: F403

globals().update(_families.load())
from symgraph.tensor import nnet as nnet  # noqa: E402
