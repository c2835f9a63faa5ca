"""``tuner="morph"``: network morphism (Jin, Song, Hu, "Auto-Keras", KDD 2019) as a search strategy.

The first trials are the task's known-good configurations (its first configurations, as every tuner but
``random`` tries them), trained from scratch. Each later trial is a *child*: the Searcher asks
:func:`plan_child` for a parent among the best finished trials and a sequence of morphs chosen by the
edit-distance GP of ``autodeep.morph.gp`` and an acquisition function; the child keeps its parent's
hyperparameter values, and the trial (``autodeep.morph.inherit``) rebuilds the parent from its files in
the project folder, applies the morphs (function-preserving) and trains it with a shorter budget.

What follows the paper and what differs (see also ``autodeep.morph.gp``'s docstring):

- As the paper: children are morphs of trained networks and inherit their weights; the GP's kernel is
  an edit distance between architectures; the acquisition is maximised over morph sequences starting at
  the best architectures found; the search starts from a known-good network.
- Ours: the acquisition defaults to expected improvement (``"ei"``); UCB with the paper's ``beta``
  2.576 is ``NetworkMorphism(acquisition="ucb")``. With the few trials a timed search runs, UCB kept
  choosing the least known (the largest) candidates: on a synthetic score it did worse than random.
- Ours: the paper trains every child as long as its early stopping allows; here a child has a shorter
  budget (``autodeep.morph.inherit.child_budget``; under a time limit, the time below), since it starts
  from trained weights.
- Ours: the paper's search is one process with the parents' models in memory; here a child needs only
  the study (its parent's user attributes) and its parent's weights file, so it runs in any worker
  process and after a resume.
- Ours: under a time limit, every trial may use at most ``scratch_share`` (a third) of the search time,
  and the trials from scratch together as much; once they have used it (a start stopped by its cap has),
  or a child has finished, the next trials are children even if known-good starts are left (a start still
  runs when no trial can be a parent). A child then trains with the run's early stopping within that time,
  not a fixed number of epochs. The paper trains every network to its early stop; on a CPU one convolutional network can do that for the whole budget
  (CIFAR-10, 8,000 images, 600 s: one trial of 515 s, so no child was ever trained), and an image task has
  7 known-good starts. Capped, the first start hands its weights on, and the children continue its
  training as they morph it.
- Ours: candidates are capped in width (``max_width``) and scored on a seeded subset (``max_candidates``),
  so planning a child takes about a second on a CPU.

Trial user attributes: ``parent`` (its trial number) and ``morph_plan`` (the abstract morphs planned)
are set before the child trains; the trial adds ``morph_ops`` (the concrete records applied),
``morph_chain`` (every record from the from-scratch ancestor, so ``autodeep.morph.replay`` rebuilds it),
``morph_architecture`` (what the GP sees) and ``inherited_epochs`` (epochs of training its first weights
carry).
"""

from __future__ import annotations

import dataclasses

import optuna

PARENT, PLAN = "parent", "morph_plan"
OPS, CHAIN, ARCHITECTURE, INHERITED = "morph_ops", "morph_chain", "morph_architecture", "inherited_epochs"


@dataclasses.dataclass
class MorphSettings:
    """How children are chosen (``ak.NetworkMorphism``'s arguments; see ``autodeep.morph.gp.propose``).

    Example:
        >>> MorphSettings().acquisition, MorphSettings(beta=1.0).beta
        ('ei', 1.0)
    """

    acquisition: str = "ei"
    beta: float = 2.576
    depth: int = 2
    parents: int = 3
    max_candidates: int = 100
    max_width: int = 1024
    scratch_share: float = 1 / 3


def children_now(study: optuna.Study, deadline: float | None, started: float, settings: MorphSettings) -> bool:
    """Whether the next trial should be a child even if known-good starts are left: under a time limit, once a
    child has finished (children have begun), a trial from scratch was stopped by its time (it used its share:
    the cap of :func:`trial_deadline`), or the finished trials from scratch took ``settings.scratch_share`` of
    the search time (from ``started`` to ``deadline``).

    The stopped trial counts on its own because its wall time stays a little under its cap (it stops before
    the step that would cross it) and the search's deadline can move later once the final stage's needs are
    known: compared with the share of the new window, it looked unfinished, and a second start took the
    children's time.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study()
        >>> study.add_trial(optuna.trial.create_trial(value=1.0, user_attrs={"seconds": 40.0}))
        >>> [children_now(study, deadline, 0.0, MorphSettings()) for deadline in (None, 100.0, 150.0)]
        [False, True, False]
        >>> study.add_trial(optuna.trial.create_trial(value=1.0, user_attrs={"seconds": 9.0, "stopped": "deadline"}))
        >>> children_now(study, 150.0, 0.0, MorphSettings())
        True
    """
    if deadline is None:
        return False
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    if any(PARENT in t.user_attrs or t.user_attrs.get("stopped") == "deadline" for t in finished):
        return True
    used = sum(t.user_attrs.get("seconds", 0.0) for t in finished)
    return used >= settings.scratch_share * max(0.0, deadline - started)


def trial_deadline(deadline: float | None, lineage: dict | None, now: float, started: float,
                   settings: MorphSettings) -> float | None:
    """The time a trial starting at ``now`` must stop by: the search's ``deadline``; in a morph search
    (``lineage`` not None) at most ``settings.scratch_share`` of the search time (from ``started``) later.

    Example:
        >>> settings, child = MorphSettings(), {"parent": 0}
        >>> trial_deadline(700.0, {}, 100.0, 100.0, settings), trial_deadline(700.0, child, 600.0, 100.0, settings)
        (300.0, 700.0)
        >>> trial_deadline(700.0, None, 100.0, 100.0, settings), trial_deadline(None, {}, 1.0, 0.0, settings)
        (700.0, None)
    """
    if deadline is None or lineage is None:
        return deadline
    return min(deadline, now + settings.scratch_share * max(0.0, deadline - started))


def _architecture(record: dict):
    from autodeep.morph.gp import Architecture

    return Architecture(tuple((kind, int(width)) for kind, width in record["layers"]),
                        tuple((int(u), int(v)) for u, v in record["skips"]))


def _history(study: optuna.Study) -> list:
    """The finished trials the GP learns from: completed, with a recorded architecture and weights to inherit."""
    sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
    return [(t, _architecture(t.user_attrs[ARCHITECTURE]), sign * t.value)
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if ARCHITECTURE in t.user_attrs]


def plan_child(study: optuna.Study, index: int, seed: int | None, settings: MorphSettings) -> dict | None:
    """``{"parent": trial number, "ops": [abstract morphs]}`` for the trial at ``index`` in the planned order,
    or ``None`` when no finished trial can be a parent (or every candidate was tried).

    The same study and seed give the same plan: the GP is deterministic and the widening's unit choices
    and the candidate subset are seeded by ``seed`` and ``index``.
    """
    from autodeep.morph.gp import ArchitectureGP, propose

    history = _history(study)
    if not history:
        return None
    draw = (0 if seed is None else seed) * 1_000_003 + index
    try:
        parent, ops, _ = propose([(a, s) for _, a, s in history], beta=settings.beta, depth=settings.depth,
                                 parents=settings.parents, gp=ArchitectureGP(), acquisition=settings.acquisition,
                                 max_candidates=settings.max_candidates, max_width=settings.max_width, seed=draw)
    except ValueError:  # every child of the best trials was trained already
        return None
    ops = [{**op, "seed": draw} if op["op"] == "widen" else op for op in ops]
    return {"parent": history[parent][0].number, "ops": ops}


def lineage(study: optuna.Study, plan: dict | None) -> dict:
    """What the trial needs to build a child (``plan`` as :func:`plan_child` gives it), read from the parent
    trial's attributes; ``{}`` for a trial trained from scratch."""
    if not plan:
        return {}
    parent = next(t for t in study.get_trials(deepcopy=False) if t.number == plan["parent"])
    attrs = parent.user_attrs
    return {"parent": parent.number, "ops": plan["ops"], "chain": list(attrs.get(CHAIN, [])),
            "parent_best_epoch": int(attrs.get("best_epoch") or 1),
            "inherited_epochs": int(attrs.get(INHERITED, 0)) + int(attrs.get("best_epoch") or 0)}


def replanned(study: optuna.Study, trial) -> dict | None:
    """The plan of the trial a rerun replaces (``rerun_of``): the rerun trains the same child."""
    from autodeep.search.interruptions import RERUN_OF

    original = trial.user_attrs.get(RERUN_OF)
    if original is None:
        return None
    found = [t for t in study.get_trials(deepcopy=False) if t.number == original]
    return found[0].user_attrs.get(PLAN) if found else None


def describe_ops(ops) -> str:
    """The morphs in a few words, for the leaderboard and the trial lines.

    Example:
        >>> describe_ops([{"op": "deepen", "layer": 1}, {"op": "widen", "layer": 0, "width": 64},
        ...               {"op": "skip", "source": 0, "target": 2}])
        'deepen 1, widen 0 to 64, skip 0->2'
    """
    words = {"deepen": lambda o: f"deepen {o['layer']}", "widen": lambda o: f"widen {o['layer']} to {o['width']}",
             "skip": lambda o: f"skip {o['source']}->{o['target']}"}
    return ", ".join(words[o["op"]](o) for o in ops or [])


def lineage_text(attrs: dict) -> str:
    """What a trial line adds for a morph child (its parent and morphs); ``""`` for any other trial.

    Example:
        >>> lineage_text({"parent": 2, "morph_ops": [{"op": "deepen", "layer": 0}]}), lineage_text({})
        (' child of trial 2 (deepen 0)', '')
    """
    if "parent" not in attrs:
        return ""
    return f" child of trial {attrs['parent']} ({describe_ops(attrs.get(OPS))})"
