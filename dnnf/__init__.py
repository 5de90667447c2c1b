"""dnnf: the library behind *Mathematical Foundations of Deep Neural Networks*.

Each chapter of the book has one module (or small package) here; import the one you need, e.g.
``from dnnf.projection import project_box``.
"""

__version__ = "0.1.0"
