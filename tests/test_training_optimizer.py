"""The loop's optimizer: fused AdamW where torch has the kernel (the Trainer's default), the same update rule."""

from __future__ import annotations

import pytest

from llmft.training import TrainArguments
from llmft.training.loop import build_optimizer, fused_adamw_supported, plan_training
from tests.support.training import one_torch_thread

pytestmark = pytest.mark.usefixtures("one_torch_thread")
__all__ = ["one_torch_thread"]  # a fixture, imported so this module's tests can use it


def _args(tmp_path, **overrides) -> TrainArguments:
    return TrainArguments(output_dir=str(tmp_path), learning_rate=1e-2, report_to="none", **overrides)


def test_the_loop_trains_with_fused_adamw_on_cpu(tmp_path):
    import torch
    from accelerate import Accelerator
    from torch.utils.data import DataLoader

    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    model[0].weight.requires_grad_(False)  # frozen weights (LoRA's base) stay out of the optimizer
    loader = DataLoader([torch.zeros(4)] * 4, batch_size=2)
    plan = plan_training(Accelerator(cpu=True), model, loader, DataLoader([]), _args(tmp_path, max_steps=2))

    optimizer = plan.optimizer.optimizer  # unwrapped from Accelerate's AcceleratedOptimizer
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.defaults["fused"] is True
    trained = [p for group in optimizer.param_groups for p in group["params"]]
    assert [tuple(p.shape) for p in trained] == [(3,), (2, 3), (2,)]
    assert optimizer.defaults["lr"] == 1e-2 and optimizer.defaults["weight_decay"] == 0.0


@pytest.mark.parametrize(
    ("device", "distributed", "fused"),
    [("cpu", "NO", True), ("cuda", "MULTI_GPU", True), ("mps", "NO", False), ("cuda", "DEEPSPEED", False)],
)
def test_fused_adamw_only_where_the_kernel_exists_and_deepspeed_does_not_own_the_optimizer(
    tmp_path, device, distributed, fused
):
    from types import SimpleNamespace

    import torch
    from accelerate.utils import DistributedType

    accelerator = SimpleNamespace(device=torch.device(device), distributed_type=DistributedType[distributed])
    assert fused_adamw_supported(accelerator) is fused
    optimizer = build_optimizer(torch.nn.Linear(4, 2), _args(tmp_path, weight_decay=0.1), fused=fused)
    assert bool(optimizer.defaults["fused"]) is fused
    assert optimizer.defaults["weight_decay"] == 0.1


def test_fused_and_default_adamw_take_the_same_steps(tmp_path):
    """Switching the loop to the fused kernel must not change training: three steps, same weights."""
    import torch

    def train(fused: bool) -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = torch.nn.Linear(8, 4)
        optimizer = (
            build_optimizer(model, _args(tmp_path, weight_decay=0.01), fused=True)
            if fused
            else torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
        )
        inputs = torch.randn(16, 8, generator=torch.Generator().manual_seed(1))
        for _ in range(3):
            model(inputs).pow(2).mean().backward()
            optimizer.step()
            optimizer.zero_grad()
        return [p.detach().clone() for p in model.parameters()]

    fused, default = train(fused=True), train(fused=False)
    # The weights moved (three steps of lr 1e-2 each change every weight by about 1e-2 or more) ...
    torch.manual_seed(0)
    start = [p.detach() for p in torch.nn.Linear(8, 4).parameters()]
    assert all((a - b).abs().min() > 1e-3 for a, b in zip(fused, start, strict=True))
    # ... by the same amounts, up to float rounding.
    for a, b in zip(fused, default, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
