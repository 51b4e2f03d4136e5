"""Many runs in one process: independent runs of one architecture trained as one batched computation.

``plan`` says which runs can share a group and packs them; ``stacked`` holds a group's stacked
parameters and its vmapped step; ``train`` runs a group (:func:`fit_group`), each run writing the run
folder a lone ``longaqa train`` writes.
"""

from longaqa.group.plan import group_key, pack
from longaqa.group.train import fit_group, mean_std

__all__ = ["fit_group", "group_key", "mean_std", "pack"]
