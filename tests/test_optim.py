"""Optimizers and schedules: the tables, and warm-start optimizer state."""

import pytest
import torch

from digitnet import DigitClassifier
from digitnet._optim import (
    SCHEDULES,
    SOLVERS,
    optimizer_params,
    schedule_callback,
    start_from,
)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_every_solver_builds_its_optimizer(solver):
    cls, kwargs = optimizer_params(DigitClassifier(solver=solver, alpha=0.01))
    assert cls is SOLVERS[solver][0]
    assert kwargs["optimizer__weight_decay"] == 0.01
    cls([torch.nn.Parameter(torch.zeros(2))], **{k[11:]: v for k, v in kwargs.items()})


def test_sgd_without_momentum_is_not_nesterov():
    _, kwargs = optimizer_params(DigitClassifier(solver="sgd", momentum=0.0))
    assert kwargs["optimizer__nesterov"] is False


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_schedule_has_its_callback(schedule):
    callback = schedule_callback(DigitClassifier(learning_rate=schedule), 5, 3)
    assert (callback is None) == (schedule == "constant")
    assert (
        schedule_callback(DigitClassifier(learning_rate=schedule), 5, 3, True) is None
    )


def _stepped(cls=torch.optim.Adam):
    p = torch.nn.Parameter(torch.ones(3))
    opt = cls([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    return opt


def test_warm_start_copies_optimizer_state_without_sharing_it():
    old = _stepped()
    q = torch.nn.Parameter(torch.ones(3))
    new = torch.optim.Adam([q], lr=0.01)
    start_from(new, old, None)
    old_state = next(iter(old.state.values()))
    new_state = new.state[q]
    assert torch.equal(new_state["exp_avg"], old_state["exp_avg"])
    assert new_state["exp_avg"].data_ptr() != old_state["exp_avg"].data_ptr()
    assert new.param_groups[0]["lr"] == 0.01  # the new settings, not the old
    assert new.param_groups[0]["initial_lr"] == 0.01


def test_another_solver_starts_fresh():
    q = torch.nn.Parameter(torch.ones(3))
    new = torch.optim.SGD([q], lr=0.01, momentum=0.9)
    start_from(new, _stepped(torch.optim.Adam), None)
    assert len(new.state) == 0
