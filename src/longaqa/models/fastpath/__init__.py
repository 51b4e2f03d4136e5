"""CPU speed paths, switched on together by ``model.fastpath`` (``build_model(..., fastpath=...)``).

Each computes what the plain model and loss (``longaqa.models``, ``longaqa.losses``) compute, within
floating-point tolerance (``tests/test_fastpath.py`` holds them to it), but faster on CPU:

- :mod:`longaqa.models.fastpath.model`: the decoder and model subclasses: batch-shared query work (with
  ``model.share_batch_work``) and its evaluation cache, the explicit attention on CPU, no masks for
  batches without padding.
- :mod:`longaqa.models.fastpath.dropout`: dropout masks from 16 random bits per element drawn by numpy on
  two threads, and a dropout residual in one pass (a custom autograd function).
- :mod:`longaqa.models.fastpath.gram`: the attention loss's correlation with a one-matmul backward, computed
  once for a batch-shared attention output.

With the flag on, the model reads ``lengths`` on the host and the loss reads tensor strides, and
dropout draws its own masks: the plain path is the one for ``torch.func`` transforms (``vmap``) and
for reading. Figures: ``bench/RESULTS.md``.
"""
