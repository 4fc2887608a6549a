"""circuitcli: values, gradients, checks and steps for real-valued circuits.

    >>> import circuitcli
    >>> result = circuitcli.parse("(x+y)*z").grad(x=-2, y=5, z=-4)
    >>> result.output, result.input_grads
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})
"""

from .core.circuit import Circuit
from .core.evaluate import Result
from .core.parser import parse
from .core.syntax import CircuitError

__all__ = ["Circuit", "CircuitError", "Result", "__version__", "parse"]
__version__ = "0.1.0"
