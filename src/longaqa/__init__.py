"""longaqa: interpretable long-term action quality assessment.

Implements "Interpretable Long-term Action Quality Assessment" (Dong et al.): a DETR-style,
decoder-only transformer over frozen clip features with an attention loss and a weight-score head.
"""

from longaqa.errors import LongAQAError

__all__ = ["LongAQAError"]
__version__ = "0.1.0"
