"""R models of one architecture as one: parameters stacked on a leading run axis, one vmapped step.

Letters: R runs, B batch, T clips, D feature dim.

The runs' own models (each as a lone run builds it, same seed, same initial weights) stay the
reference: their weights are stacked when a :class:`StackedRuns` is built,
:meth:`StackedRuns.load_optimizers` stacks their optimizer states, and :meth:`StackedRuns.store`
writes them back (before evaluating, checkpointing or finishing a run). Adam updates every element
on its own, so one optimizer over the stacked tensors is R optimizers over the runs' tensors, as long
as their settings are equal (:func:`longaqa.group.plan.group_key`); its ``state_dict`` is theirs,
stacked.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from longaqa.config import Config
from longaqa.data.dataset import Batch
from longaqa.losses import Criterion
from longaqa.models import model_from_config
from longaqa.models.attention import MultiHeadAttention
from longaqa.precision import autocast


def stack_batches(batches: list[Batch], device: torch.device) -> tuple[torch.Tensor, ...]:
    """One batch per run as (R, B, T, D) features (zero-padded to the longest of all), (R, B) lengths,
    (R, B) scores, and the sub-scores name -> (R, B) (None unless every run's batch has them)."""
    longest = max(b.clip_features.shape[1] for b in batches)
    features = torch.stack([
        nn.functional.pad(b.clip_features, (0, 0, 0, longest - b.clip_features.shape[1])) for b in batches
    ]).to(device, non_blocking=True)  # (R, B, T, D)
    lengths = torch.stack([b.lengths for b in batches]).to(device)  # (R, B)
    scores = torch.stack([b.scores for b in batches]).to(device)  # (R, B)
    subscores = None
    if all(b.subscores for b in batches):
        subscores = {name: torch.stack([b.subscores[name] for b in batches]).to(device)
                     for name in batches[0].subscores}
    return features, lengths, scores, subscores


class StackedRuns:
    """The trainable state of a group: stacked parameters and buffers, the vmapped loss, one optimizer."""

    def __init__(self, cfg: Config, models: list[nn.Module], device: torch.device, precision: str,
                 build_optimizer):
        self.device, self.precision = device, precision
        # the plain model (no CPU fast paths: vmap runs it); its own weights are never used
        with torch.random.fork_rng(devices=[]):  # its initial draws must not move the group's dropout stream
            self.template = model_from_config(cfg, fastpath=False).to(device)
        for module in self.template.modules():
            if isinstance(module, MultiHeadAttention):
                module.use_fused = False  # vmap batches matmuls; fused attention it would loop over
        self.names = [name for name, _ in models[0].named_parameters()]
        params, self.buffers = stack_module_state(models)  # name -> (R, ...), params require grad
        self.params = {name: params[name] for name in self.names}
        self.optimizer, self.scheduler, self.per_iter = build_optimizer([self.params[n] for n in self.names])
        self.criterion = Criterion(cfg.loss, cfg.model.d_model)
        self.runs = len(models)

        def one_run(params, buffers, features, lengths, scores, subscores):
            out = functional_call(self.template, (params, buffers), (features, lengths))
            return self.criterion(out, scores, subscores)  # name -> scalar

        def one_run_eval(params, buffers, features, lengths):
            out = functional_call(self.template, (params, buffers), (features, lengths), {"need_weights": True})
            return {"pred": out.pred, "subscores": out.subscores or {}, "self_attn_maps": out.self_attn_maps}

        self.one_run = one_run
        self.one_run_eval = one_run_eval

    def losses(self, params, buffers, features, lengths, scores, subscores) -> dict[str, torch.Tensor]:
        """Every run's loss terms on its own batch: name -> (R,); each run its own dropout masks."""
        in_dims = (0, 0, 0, 0, 0, None if subscores is None else 0)
        return vmap(self.one_run, in_dims=in_dims, randomness="different")(
            params, buffers, features, lengths, scores, subscores)

    def train_step(self, features, lengths, scores, subscores) -> dict[str, torch.Tensor]:
        """One optimizer step of every run on its own batch; every loss term per run, (R,) each.
        The optimizer does not step when a run's loss is not finite (the caller raises)."""
        self.template.train()
        self.criterion.train()
        with autocast(self.device, self.precision):
            terms = self.losses(self.params, self.buffers, features, lengths, scores, subscores)
        self.optimizer.zero_grad(set_to_none=True)
        terms["loss"].sum().backward()  # runs share no parameter: each gets its own loss's gradient
        return terms

    @torch.no_grad()
    def evaluate(self, features, lengths) -> dict:
        """Every run's prediction (R, B), sub-scores name -> (R, B) and self-attention maps per layer
        (R, B, Q, Q) on its own batch, in evaluation mode."""
        self.template.eval()
        with autocast(self.device, self.precision):
            return vmap(self.one_run_eval, randomness="different")(self.params, self.buffers, features, lengths)

    def step(self) -> None:
        self.optimizer.step()
        if self.scheduler is not None and self.per_iter:
            self.scheduler.step()

    def load_optimizers(self, optimizers: list[torch.optim.Optimizer], schedulers: list) -> None:
        """Take the runs' optimizer states and scheduler state (a resumed group; the weights were stacked
        from the runs' models when this was built)."""
        states = [o.state_dict() for o in optimizers]
        if states[0]["state"]:
            stacked = {"state": {}, "param_groups": states[0]["param_groups"]}
            for index, first in states[0]["state"].items():
                stacked["state"][index] = {
                    key: value if key == "step" else torch.stack([s["state"][index][key] for s in states])
                    for key, value in first.items()
                }
            self.optimizer.load_state_dict(stacked)
        if self.scheduler is not None:
            self.scheduler.load_state_dict(schedulers[0].state_dict())

    def store(self, models: list[nn.Module], optimizers: list[torch.optim.Optimizer] | None = None,
              schedulers: list | None = None) -> None:
        """Write run r's slice back into ``models[r]`` (and its optimizer and scheduler, when given)."""
        with torch.no_grad():
            for r, model in enumerate(models):
                own = dict(model.named_parameters())
                for name in self.names:
                    own[name].copy_(self.params[name][r])
        if optimizers is None:
            return
        stacked = self.optimizer.state_dict()
        for r, optimizer in enumerate(optimizers):
            state = {
                index: {key: value if key == "step" else value[r].clone() for key, value in entry.items()}
                for index, entry in stacked["state"].items()
            }
            optimizer.load_state_dict({"state": state, "param_groups": stacked["param_groups"]})
        if self.scheduler is not None:
            for scheduler in schedulers or ():
                scheduler.load_state_dict(self.scheduler.state_dict())
