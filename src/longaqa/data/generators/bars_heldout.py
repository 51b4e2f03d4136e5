"""``bars_heldout``: women's artistic gymnastics uneven bars judged by FIG-like rules, held out from model design.

Written from the FIG Code of Points for uneven bars as recalled (women's artistic gymnastics, the cycles
with five composition requirements), without reading the model. The RG layout holds D, E and the
neutral deductions in its Difficulty, Execution and Penalty columns; Total = D + E - Penalty.

**The routine.** Continuous swinging between two bars: a salute to the judges, a mount, then valued
elements in *phases* on one bar, joined by flight *transitions* between the bars (low bar (LB) to high
bar (HB) and back), and a dismount from the high bar with its landing. A routine that mounts on the
low bar goes LB, up, HB, down, LB, up, HB; one that mounts on the high bar starts on the HB. Element
families: circling elements (clear hip, stalder, toe-on and inbar circles to handstand, with or without
turn; on either bar), pirouettes (turns in handstand, HB), releases (flight and regrasp on the same
bar, HB), transitions (HB to LB, LB to HB), mounts and dismounts (``ELEMENTS``: 40 types with their
letter values A = 0.1 ... G = 0.7). Between elements that are not directly connected the gymnast
links them with parts that earn no value: a kip and cast to handstand after arriving on a bar in hang
(after a transition down, a glide-kip mount or a remount), a swing or giant circles otherwise. A
routine of 28-38 clips has 9-13 valued elements (fewer in shorter videos), each of 1-2 clips; about
half of the clips show a valued element, the rest are linking swings, the salutes, the landing and,
where they happen, intermediate swings, falls and remounts (``SEGMENTS``).

**D** (Difficulty column) = difficulty values + composition requirements (CR) + connection values (CV):

* *Values*: the 8 highest values among the recognised elements, the dismount always among them (the
  dismount + the 7 highest others, the mount included). An element is not recognised when it ends in
  a fall (a release or transition not regrasped, a circle or pirouette the gymnast comes off) or when
  it finishes more than 45 degrees short of handstand (circles and pirouettes; 0.5 is also deducted).
  A fall on the dismount's landing does not take its value. An element type performed a second time
  is not valued again. An element outside the 8 counted earns no value.
* *CR*, 0.5 each when a recognised element fulfils it: a flight from HB to LB, a flight element on the
  same bar, an element in a different grip (L-grip, mixed grip, undergrip; not mount or dismount), a
  non-flight element with at least 360 degrees of turn; the dismount CR is 0.5 for a D or harder
  dismount, 0.3 for a C, 0 below. Each CR is credited on the first recognised element fulfilling it.
* *CV* for direct connections (no swing, kip or cast between) of two recognised elements: two flight
  elements C + D 0.1, D + D or more 0.2; flight and non-flight element (either order) D + D or more 0.1;
  two non-flight elements D + D or more 0.1; an element D or more into a D or harder dismount 0.1.
  An intermediate swing or a fall breaks a planned connection.

An element's credit (its value if counted, the CRs it fulfils, half of each CV it takes part in) is
located on its clips, split in whole hundredths, so ``difficulty`` sums to D exactly.

**E** (Execution column) = 10 - execution deductions. Located faults, each on one clip of the part
where it happens, with a true size of 0.1 (small), 0.3 (medium) or 0.5 (large):

* on elements: form (bent arms or legs, legs apart, body posture) 0.1/0.3; amplitude (height of flight,
  amplitude of circles and of the dismount) 0.1/0.3; handstand angle short 0.1/0.3, and 0.5 with no
  value beyond 45 degrees; precision of turns 0.1/0.3; grip adjustment 0.1; brushing the bar or mat
  with the feet 0.1, hitting the bar 0.3;
* on linking parts: a cast short of handstand 0.1/0.3, bent arms in the kip 0.1/0.3, legs apart or
  feet brushing in swings and giants;
* intermediate swing (a swing without an element, its own clip, followed by linking; it breaks a planned
  connection) 0.5;
* landing (its own clip): small steps or a small hop 0.1 each (at most four), a large step or hop
  0.3, a deep squat 0.3, hands touching the mat 0.3;
* falls 1.0, on the fall clip (a clip of its own after the element, or the landing clip for a fall
  on the dismount), followed (before the dismount) by remount clips and a kip and cast.

Four E judges each see a fault one step lower or higher on the ladder 0, 0.1, 0.3, 0.5 now and then;
the panel deducts the mean of the middle two (steps of 0.05); falls (1.0) and intermediate swings
(0.5) are deducted as they are. One deduction is for the whole exercise and on no clip: *rhythm*
(insufficient rhythm and dynamics of the swing through the exercise), 0.1-0.3 from the gymnast's flow.
Bars has no artistry deductions (those are beam and floor). ``deduction`` sums to 10 - E - rhythm;
``video["rhythm"]`` holds the rest.

**Penalty** (neutral deductions, on no clip, about one routine in nine): failure to present to the
judges before or after 0.3, attire or jewellery 0.3, coach on the podium during the exercise 0.5 (both
0.3 and 0.5 now and then). Time and out-of-bounds deductions do not apply to bars.

Skill picks the element values (harder elements for better gymnasts) and connections; the gymnast's
form level (correlated with skill) sets how often and how badly she faults, harder elements more.
Over seeds 0-2 (300 routines each): D 5.3-5.4 +- 0.8, E 7.7 +- 1.0, totals 13.0 +- 1.5 (5-95%: about
10.3-15.2), a fall in 9-13% of routines, D-E correlation 0.3-0.4; 96-97% of 10 - E is located on clips.

Features: a latent of 32 dimensions per clip holds the element type's (or the linking part's) embedding,
which bar the gymnast is on, the video's style vector, AR(1) noise, the gymnast's form level on every
clip on the bars, and each located fault on its clip, shown non-linearly (saturating on a shared
body-line direction, square root along a direction of the part's family); falls along a fall
direction; the whole-exercise rhythm shows only on linking swings.

Per-clip truth (``truth/<name>.npz``): ``difficulty`` (sums to D), ``deduction`` (located execution
deductions: sums to 10 - E - rhythm), ``contribution`` = difficulty - deduction (sums to
Total + Penalty + rhythm - 10), ``element_type`` (the type index, -1 off valued elements, the fall clip
included) and ``segment`` (``SEGMENTS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import (
    DEFAULT_SIZES,
    GenerationSizes,
    JudgedVideo,
    check_class_name,
    write_rg_release,
)

KIND = "bars_heldout"
DEFAULT_CLIPS = (28, 38)
"""A bars routine with its salutes: about 36-49 s, in 32-frame clips at 25 fps."""
FEWEST_CLIPS = 20
"""Room for the mount, three transitions with linking, a release, two falls with remounts, two
intermediate swings, the dismount and its landing (elements are dropped to fit shorter routines)."""

SEGMENTS = {
    0: "salute to the judges (before the mount, after the landing)",
    1: "mount",
    2: "kip and cast to handstand (linking, no value)",
    3: "swing or giant circles (linking, no value)",
    4: "circling element (clear hip, stalder, toe-on, inbar; with or without turn)",
    5: "pirouette (turn in handstand)",
    6: "release (flight and regrasp on the same bar)",
    7: "transition (flight between the bars)",
    8: "dismount",
    9: "landing",
    10: "intermediate swing (a fault)",
    11: "fall",
    12: "remount (getting back on the bars after a fall)",
}

MOUNT, CIRCLING, PIROUETTE, RELEASE, DOWN, UP, DISMOUNT = range(7)
FAMILY_NAMES = ("mount", "circling element", "pirouette", "release", "transition HB to LB",
                "transition LB to HB", "dismount")
FAMILY_SEGMENT = {MOUNT: 1, CIRCLING: 4, PIROUETTE: 5, RELEASE: 6, DOWN: 7, UP: 7, DISMOUNT: 8}
FLIGHT = (RELEASE, DOWN, UP)


@dataclass(frozen=True)
class Element:
    name: str
    family: int
    value: int
    """Hundredths of a point: A = 10 ... G = 70."""
    turn: bool = False
    """A non-flight element with at least 360 degrees of turn (a CR)."""
    grip: bool = False
    """Performed in or to a grip other than the regular one (a CR)."""
    bar: str = "HB"
    """Where it is performed (``HB``, ``LB``, ``any``); a mount: the bar it ends on."""


ELEMENTS = (
    Element("glide kip", MOUNT, 10, bar="LB"),
    Element("jump to hang on HB, kip", MOUNT, 10, bar="HB"),
    Element("straddle jump over LB to hang on HB", MOUNT, 20, bar="HB"),
    Element("round-off, salto forward over LB to hang on HB", MOUNT, 40, bar="HB"),
    Element("clear hip circle to handstand", CIRCLING, 20, bar="any"),
    Element("stalder to handstand", CIRCLING, 20, bar="any"),
    Element("toe-on circle to handstand", CIRCLING, 20, bar="any"),
    Element("eagle giant (L-grip)", CIRCLING, 20, grip=True),
    Element("inbar stalder to handstand", CIRCLING, 30, bar="any"),
    Element("stalder with 1/2 turn", CIRCLING, 30, bar="any"),
    Element("toe-on with 1/2 turn", CIRCLING, 30, bar="any"),
    Element("inbar stalder with 1/2 turn to L-grip", CIRCLING, 40, grip=True, bar="any"),
    Element("stalder with 1/1 turn", CIRCLING, 40, turn=True, bar="any"),
    Element("toe-on with 1/1 turn", CIRCLING, 40, turn=True, bar="any"),
    Element("inbar stalder with 1/1 turn", CIRCLING, 50, turn=True, bar="any"),
    Element("giant circle backward with 1/2 turn (blind change)", PIROUETTE, 20),
    Element("giant circle backward with 1/1 turn", PIROUETTE, 30, turn=True),
    Element("Healy (forward pirouette on one arm, 1/1)", PIROUETTE, 40, turn=True, grip=True),
    Element("Ono (backward hop 1/1 turn to mixed grip)", PIROUETTE, 40, turn=True, grip=True),
    Element("Healy to L-grip with 1/2 turn more", PIROUETTE, 50, turn=True, grip=True),
    Element("Tkachev straddled", RELEASE, 30),
    Element("Gienger", RELEASE, 40),
    Element("Jaeger straddled", RELEASE, 40),
    Element("Tkachev piked", RELEASE, 40),
    Element("Ricna (stalder Tkachev)", RELEASE, 40),
    Element("Komova (inbar Tkachev)", RELEASE, 50),
    Element("Nabieva (laid-out Tkachev)", RELEASE, 70),
    Element("flight backward piked from HB to LB", DOWN, 30),
    Element("Pak salto (stretched, HB to LB)", DOWN, 40),
    Element("clear hip circle on LB with flight to hang on HB", UP, 30, bar="LB"),
    Element("Shaposhnikova", UP, 40, bar="LB"),
    Element("Shaposhnikova with 1/2 turn", UP, 50, bar="LB"),
    Element("Van Leeuwen (toe-on Shaposhnikova with 1/2 turn)", UP, 50, bar="LB"),
    Element("Shaposhnikova with 1/1 turn", UP, 60, bar="LB"),
    Element("salto backward tucked (flyaway)", DISMOUNT, 10),
    Element("salto backward stretched (layout flyaway)", DISMOUNT, 20),
    Element("double salto backward tucked", DISMOUNT, 30),
    Element("double salto backward stretched", DISMOUNT, 40),
    Element("double salto backward tucked with 1/1 twist", DISMOUNT, 40),
    Element("double salto backward stretched with 1/1 twist", DISMOUNT, 50),
)
VALUES = np.array([e.value for e in ELEMENTS])
FAMILY = np.array([e.family for e in ELEMENTS])

COUNTED = 8
"""Values counted: the dismount and the 7 highest other recognised elements."""
CR_POINTS = 50
DISMOUNT_CR = {30: 30}
"""The dismount CR below D (hundredths): C 0.3, A-B nothing; D or more: 0.5."""
LADDER = np.array([0, 10, 30, 50])
"""The E judges' fault sizes in hundredths (0: not seen)."""
FALL = 100
INTERMEDIATE_SWING = 50
PENALTIES = (np.array([0, 30, 50, 80]), np.array([0.89, 0.08, 0.025, 0.005]))
"""Neutral deductions in hundredths and how often each is given."""
MOST_FALLS = 2
CHOICE_GAIN, CHOICE_SHIFT, CHOICE_WIDTH = 0.8, 0.3, 0.7
"""A gymnast picks types whose value, standardised within the candidates, is near
``CHOICE_GAIN * skill - CHOICE_SHIFT``, within about ``CHOICE_WIDTH``."""
MOST_SWINGS = 2
RANK = 32

# Located fault checks per family: (what, base probability, the largest step: 1 = 0.1, 2 = 0.3)
CHECKS = {
    MOUNT: (("form", 0.25, 2),),
    CIRCLING: (("form", 0.30, 2), ("amplitude", 0.22, 2), ("handstand angle", 0.30, 2),
               ("feet brush or hit", 0.05, 2)),
    PIROUETTE: (("form", 0.30, 2), ("handstand angle", 0.30, 2), ("turn precision", 0.25, 2),
                ("grip adjustment", 0.15, 1)),
    RELEASE: (("form", 0.35, 2), ("height of flight", 0.30, 2), ("grip adjustment", 0.15, 1),
              ("feet brush or hit", 0.06, 2)),
    DOWN: (("form", 0.35, 2), ("height of flight", 0.25, 2), ("feet brush or hit", 0.08, 2)),
    UP: (("form", 0.35, 2), ("height of flight", 0.25, 2), ("grip adjustment", 0.10, 1),
         ("feet brush or hit", 0.06, 2)),
    DISMOUNT: (("form", 0.30, 2), ("amplitude", 0.30, 2)),
}
LINK_CHECKS = {
    2: (("cast short of handstand", 0.30, 2), ("bent arms in the kip", 0.10, 2)),
    3: (("legs apart or body shape", 0.12, 1), ("feet brush the bar or mat", 0.04, 1)),
}
FAULT_FORM = 0.2
"""A fault's chance scales with ``exp(-FAULT_FORM * form)`` ..."""
FAULT_VALUE = 0.3
"""... and ``exp(FAULT_VALUE * (value - 0.35) / 0.15)`` (harder elements fault more) ..."""
FAULT_RATE = 1.15
"""... times this and the check's base probability."""


@dataclass
class Part:
    """A stretch of the routine: an element, a linking part, a salute, a fall ..."""

    segment: int
    element: int = -1  # index into the routine's performed elements; -1 off elements
    least: int = 1
    most: int = 1
    clips: int = 0


def _split(amount: int, n: int) -> np.ndarray:
    """``amount`` hundredths over ``n`` clips in whole hundredths, the remainder on the first clips."""
    out = np.full(n, amount // n, dtype=np.int64)
    out[: amount % n] += 1
    return out


def connection_value(first: Element, second: Element) -> int:
    """CV in hundredths for a direct connection of two recognised elements (0: none)."""
    a, b = first.value, second.value
    if second.family == DISMOUNT:
        return 10 if a >= 40 and b >= 40 and first.family != MOUNT else 0
    if first.family in (MOUNT, DISMOUNT):
        return 0
    flights = (first.family in FLIGHT) + (second.family in FLIGHT)
    if flights == 2:
        if min(a, b) >= 40:
            return 20
        return 10 if min(a, b) >= 30 and max(a, b) >= 40 else 0
    return 10 if min(a, b) >= 40 else 0


def dismount_cr(value: int) -> int:
    return CR_POINTS if value >= 40 else DISMOUNT_CR.get(value, 0)


def panel_deduction(step: int, rng: np.random.Generator, misjudge: float = 0.15) -> int:
    """The panel's deduction (hundredths) for a fault of true ladder step 1-3: four judges each see it a
    step lower or higher with probability ``misjudge`` each; the mean of the middle two."""
    slips = rng.choice([-1, 0, 1], size=4, p=[misjudge, 1 - 2 * misjudge, misjudge])
    seen = np.sort(LADDER[np.clip(step + slips, 0, len(LADDER) - 1)])
    return int((seen[1] + seen[2]) // 2)


class BarsSport:
    """One fixed sport per seed: embeddings of element types and linking parts, directions, feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        self.line = basis[0]  # body line: every fault, saturating; the form level
        self.family_direction = basis[1:8]  # one per family of part (see _family_direction)
        self.fall_direction = basis[8]
        self.tempo = basis[9]  # the swing's rhythm, on linking swings
        content = basis[10:]
        scale = 2.0 / np.sqrt(RANK)
        self.type_embedding = rng.normal(size=(len(ELEMENTS), len(content))) @ content * scale
        self.segment_embedding = rng.normal(size=(len(SEGMENTS), len(content))) @ content * scale
        self.family_embedding = rng.normal(size=(7, len(content))) @ content * scale * 0.7
        self.high_bar = rng.normal(size=len(content)) @ content * scale * 0.5
        self.content = content
        self.feature_map = FeatureMap(rng, RANK, feature_dim)
        # a fault's non-linear look per family: how fast the body line saturates
        self.saturation = rng.uniform(0.15, 0.35, size=7)

    # --- composition ---------------------------------------------------------------------------
    def pick(self, rng: np.random.Generator, skill: float, candidates: list[int]) -> int:
        values = VALUES[candidates].astype(float)
        spread = values.std() if values.std() > 0 else 10.0
        level = (values - values.mean()) / spread
        weight = np.exp(-0.5 * ((level - CHOICE_GAIN * skill + CHOICE_SHIFT) / CHOICE_WIDTH) ** 2) + 1e-9
        return int(candidates[int(rng.choice(len(candidates), p=weight / weight.sum()))])

    def choose(self, rng, skill, used: set[int], family: int | tuple[int, ...], bar: str,
               turn: bool = False, grip: bool = False) -> int:
        families = (family,) if isinstance(family, int) else family
        def ok(i: int, fresh: bool) -> bool:
            e = ELEMENTS[i]
            return (e.family in families and (e.bar in (bar, "any") or e.family in (MOUNT, DOWN, UP))
                    and (not turn or e.turn) and (not grip or e.grip) and (not fresh or i not in used))
        candidates = ([i for i in range(len(ELEMENTS)) if ok(i, True)]
                      or [i for i in range(len(ELEMENTS)) if ok(i, False)])
        kind = self.pick(rng, skill, candidates)
        used.add(kind)
        return kind

    def compose(self, rng: np.random.Generator, skill: float, length: int) -> list[int]:
        """The performed element types in order: mount, the others, dismount."""
        used: set[int] = set()
        mount = self.choose(rng, skill, used, MOUNT, "any")
        starts_low = ELEMENTS[mount].bar == "LB"
        budget = length - 5
        n_mid = int(np.clip(round(budget / rng.uniform(2.5, 3.2)), 6, 11))
        transitions = [UP, DOWN, UP] if starts_low else [DOWN, UP]
        n_other = max(n_mid - len(transitions), 2)
        lb0 = int(starts_low and rng.random() < 0.4)
        lb2 = 1 + int(rng.random() < 0.25) if n_other >= 4 else 0
        lb0 = min(lb0, max(n_other - lb2 - 2, 0))
        n_high = n_other - lb0 - lb2
        # the high-bar slots: (family, turn, grip); the CR elements first
        slots: list[tuple[tuple[int, ...], bool, bool]] = [((RELEASE,), False, False)]
        if rng.random() < 1 / (1 + np.exp(-(1.5 + 1.5 * skill))):
            slots.append(((CIRCLING, PIROUETTE), True, False))
        if rng.random() < 1 / (1 + np.exp(-(1.0 + 1.5 * skill))):
            slots.append(((CIRCLING, PIROUETTE), False, True))
        while len(slots) < n_high:
            f = int(rng.choice([RELEASE, PIROUETTE, CIRCLING], p=[0.4, 0.3, 0.3]))
            slots.append(((f,), False, False))
        slots = slots[:n_high]
        order = rng.permutation(len(slots))
        slots = [slots[i] for i in order]
        first = int(np.ceil(0.6 * len(slots)))
        high1 = sorted(slots[:first], key=lambda s: s[0] == (RELEASE,))  # releases late: into the flight down
        high3 = slots[first:]

        def high(phase):
            return [self.choose(rng, skill, used, fam, "HB", turn, grip) for fam, turn, grip in phase]

        def low(n):
            return [self.choose(rng, skill, used, CIRCLING, "LB") for _ in range(n)]

        def flight(direction):
            return self.choose(rng, skill, used, direction, "any")

        if starts_low:
            mids = [*low(lb0), flight(UP), *high(high1), flight(DOWN), *low(lb2), flight(UP), *high(high3)]
        else:
            mids = [*high(high1), flight(DOWN), *low(lb2), flight(UP), *high(high3)]
        dismount = self.choose(rng, skill, used, DISMOUNT, "HB")
        return [mount, *mids, dismount]

    def connections(self, rng: np.random.Generator, skill: float, kinds: list[int]) -> list[bool]:
        """``linked[i]``: element ``i`` is directly connected to element ``i + 1`` (as planned)."""
        linked = [False] * len(kinds)
        for i in range(1, len(kinds) - 1):
            f, g = FAMILY[kinds[i]], FAMILY[kinds[i + 1]]
            if f == DOWN:  # arrives on the low bar in hang: a kip follows
                continue
            if g == DISMOUNT:
                base = 0.35 if f in (CIRCLING, PIROUETTE) else 0.1
            elif f in (RELEASE, UP) and g in (RELEASE, DOWN):
                base = 0.55
            elif f in (CIRCLING, PIROUETTE) and g in FLIGHT:
                base = 0.45
            elif f in (CIRCLING, PIROUETTE):
                base = 0.3
            else:
                base = 0.15
            linked[i] = bool(rng.random() < np.clip(0.6 * base * np.exp(0.3 * skill), 0.0, 0.7))
        return linked

    # --- one routine -------------------------------------------------------------------------
    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        form = float(np.clip(0.8 * skill + 0.6 * rng.normal(), -2.5, 2.5))
        flow = float(0.6 * skill + 0.8 * rng.normal())
        kinds = self.compose(rng, skill, length)
        linked = self.connections(rng, skill, kinds)
        events = [self.execute(rng, kinds, i, form) for i in range(len(kinds))]
        falls = 0
        swings = 0
        for ev in events:  # at most MOST_FALLS falls and MOST_SWINGS intermediate swings
            if ev["fall"]:
                falls += 1
                ev["fall"] = falls <= MOST_FALLS
            if ev["swing"]:
                swings += 1
                ev["swing"] = swings <= MOST_SWINGS
        parts = self.layout(kinds, linked, events, rng)
        while sum(p.least for p in parts) > length:  # too long for the video: drop an element
            droppable = [i for i in range(1, len(kinds) - 1) if FAMILY[kinds[i]] in (CIRCLING, PIROUETTE, RELEASE)]
            releases = [i for i in droppable if FAMILY[kinds[i]] == RELEASE]
            if len(releases) == 1:
                droppable.remove(releases[0])
            if not droppable:
                raise AssertionError(f"{name}: {length} clips cannot hold the routine")  # FEWEST_CLIPS prevents it
            drop = min(droppable, key=lambda i: (VALUES[kinds[i]], -i))
            linked[drop - 1] = False
            del kinds[drop], linked[drop], events[drop]
            parts = self.layout(kinds, linked, events, rng)
        self.stretch(parts, length, rng)
        return self.judge(name, length, kinds, linked, events, parts, skill, form, flow, rng)

    def execute(self, rng: np.random.Generator, kinds: list[int], i: int, form: float) -> dict:
        """What happens to element ``i``: its faults (true step, check), a fall, a serious fault, an
        intermediate swing after it; and the landing faults of a dismount."""
        e = ELEMENTS[kinds[i]]
        level = (e.value - 35) / 15
        scale = np.exp(FAULT_VALUE * level - FAULT_FORM * form)
        faults = []
        for _, base, top in CHECKS[e.family]:
            if rng.random() < np.clip(FAULT_RATE * base * scale, 0.01, 0.45):
                big = rng.random() < 1 / (1 + np.exp(1.8 + 0.5 * form - 0.3 * level))
                faults.append(2 if (big and top >= 2) else 1)
        serious = False
        serious_chance = np.clip(0.025 * np.exp(0.5 * level - 0.8 * form), 0, 0.3)
        if e.family in (CIRCLING, PIROUETTE) and rng.random() < serious_chance:
            serious = True  # more than 45 degrees short of handstand: 0.5 and no value
            faults.append(3)
        if e.family in FLIGHT:
            fall_chance = 0.012 * np.exp(0.6 * level - 0.7 * form)
        elif e.family == DISMOUNT:
            fall_chance = 0.015 * np.exp(0.5 * level - 0.7 * form)
        elif e.family == MOUNT:
            fall_chance = 0.0
        else:
            fall_chance = 0.003 * np.exp(0.5 * level - 0.7 * form)
        fall = bool(rng.random() < np.clip(fall_chance, 0.001, 0.25))
        swing = bool(e.family not in (MOUNT, DISMOUNT) and rng.random() < np.clip(0.04 * np.exp(-0.6 * form), 0, 0.3))
        landing = []
        if e.family == DISMOUNT and not fall:
            landing += [1] * min(int(rng.poisson(0.7 * np.exp(0.3 * level - 0.5 * form))), 4)  # small steps
            for chance in (0.12, 0.05, 0.03):  # a large step or hop, a deep squat, hands touching the mat
                if rng.random() < np.clip(chance * np.exp(0.3 * level - 0.5 * form), 0, 0.6):
                    landing.append(2)
        return dict(faults=faults, serious=serious, fall=fall, swing=swing and not fall, landing=landing)

    def layout(self, kinds: list[int], linked: list[bool], events: list[dict], rng) -> list[Part]:
        """The routine's parts in order, with their fewest and most clips."""
        parts = [Part(0, least=0, most=2)]
        n = len(kinds)
        in_hang_low = ELEMENTS[kinds[0]].name == "glide kip"  # ends in support on LB: a cast follows
        for i in range(n):
            fam = FAMILY[kinds[i]]
            if i > 0 and not (linked[i - 1] and not events[i - 1]["swing"] and not events[i - 1]["fall"]):
                parts.append(Part(2 if in_hang_low else 3, most=2))
            most = 1 if fam in (MOUNT, CIRCLING) else 2
            parts.append(Part(FAMILY_SEGMENT[fam], element=i, least=1, most=most))
            in_hang_low = fam == DOWN
            if fam == DISMOUNT:
                parts.append(Part(11 if events[i]["fall"] else 9, element=-1))
                continue
            if events[i]["swing"]:
                parts.append(Part(10))
            if events[i]["fall"]:
                parts.append(Part(11))
                parts.append(Part(12, least=2, most=4))
                in_hang_low = True  # back on the bar in hang: kip and cast
        parts.append(Part(0, least=0, most=2))
        for p in parts:
            p.clips = p.least
        return parts

    def stretch(self, parts: list[Part], length: int, rng: np.random.Generator) -> None:
        """Give the parts ``length`` clips in all: salutes first, then longer elements, linking and
        remounts up to their most, then more swings and giants."""
        spare = length - sum(p.clips for p in parts)
        for p in (parts[0], parts[-1]):
            if spare > 0 and rng.random() < 0.85:
                p.clips += 1
                spare -= 1
        weights = {0: 0.4, 2: 1.5, 3: 1.5, 4: 0.6, 5: 1.0, 6: 1.0, 7: 1.2, 8: 1.0, 12: 1.0}
        while spare > 0:
            room = [k for k, p in enumerate(parts) if p.clips < p.most and p.segment in weights]
            if not room:
                room = [k for k, p in enumerate(parts) if p.segment in (2, 3)] or [0, len(parts) - 1]
            w = np.array([weights.get(parts[k].segment, 1.0) for k in room])
            parts[room[int(rng.choice(len(room), p=w / w.sum()))]].clips += 1
            spare -= 1

    def judge(self, name, length, kinds, linked, events, parts, skill, form, flow, rng) -> JudgedVideo:
        n = len(kinds)
        # where each part lies
        starts = np.cumsum([0] + [p.clips for p in parts])
        segment = np.concatenate([np.full(p.clips, p.segment) for p in parts]).astype(np.int64)
        element_type = np.full(length, -1)
        span: dict[int, tuple[int, int]] = {}
        for k, p in enumerate(parts):
            if p.element >= 0:
                span[p.element] = (int(starts[k]), int(starts[k + 1]))
                element_type[starts[k]:starts[k + 1]] = kinds[p.element]
        assert len(segment) == length

        # recognition, values, CR, CV (hundredths per element)
        fam = [FAMILY[k] for k in kinds]
        recognised = [not ev["serious"] and (not ev["fall"] or fam[i] == DISMOUNT) for i, ev in enumerate(events)]
        seen: set[int] = set()
        for i in range(n):  # a type performed again is not valued again
            if kinds[i] in seen:
                recognised[i] = False
            seen.add(kinds[i])
        credit = np.zeros(n, dtype=np.int64)
        others = sorted((i for i in range(n - 1) if recognised[i]), key=lambda i: (-VALUES[kinds[i]], i))
        counted = others[: COUNTED - 1] + ([n - 1] if recognised[n - 1] else [])
        for i in counted:
            credit[i] += VALUES[kinds[i]]
        values_total = int(credit.sum())
        cr_total = 0
        requirements = (
            lambda i: fam[i] == DOWN,
            lambda i: fam[i] == RELEASE,
            lambda i: ELEMENTS[kinds[i]].grip and fam[i] not in (MOUNT, DISMOUNT),
            lambda i: ELEMENTS[kinds[i]].turn and fam[i] not in (MOUNT, DISMOUNT),
        )
        for fulfils in requirements:
            first = next((i for i in range(n) if recognised[i] and fulfils(i)), None)
            if first is not None:
                credit[first] += CR_POINTS
                cr_total += CR_POINTS
        if recognised[n - 1]:
            cr = dismount_cr(int(VALUES[kinds[n - 1]]))
            credit[n - 1] += cr
            cr_total += cr
        cv_total = 0
        for i in range(n - 1):
            direct = linked[i] and not events[i]["swing"] and not events[i]["fall"]
            if direct and recognised[i] and recognised[i + 1]:
                cv = connection_value(ELEMENTS[kinds[i]], ELEMENTS[kinds[i + 1]])
                credit[i] += cv // 2
                credit[i + 1] += cv - cv // 2
                cv_total += cv
        difficulty = np.zeros(length, dtype=np.int64)
        for i, (a, b) in span.items():
            difficulty[a:b] += _split(int(credit[i]), b - a)

        # execution: faults located on clips of their part
        deduction = np.zeros(length, dtype=np.int64)
        true_size = np.zeros(length)  # points
        direction = np.full(length, -1)  # the family direction a fault shows along
        falls = np.zeros(length)
        for k, p in enumerate(parts):
            a, b = int(starts[k]), int(starts[k + 1])
            if p.element >= 0:
                steps, dirn = events[p.element]["faults"], self._family_direction(fam[p.element])
            elif p.segment in LINK_CHECKS:
                steps, dirn = self._link_faults(p.segment, form, rng), 5
            elif p.segment == 9:  # landing of the dismount
                steps, dirn = events[n - 1]["landing"], 6
            else:
                steps, dirn = [], -1
            for step in steps:
                clip = int(rng.integers(a, b))
                deduction[clip] += panel_deduction(step, rng)
                true_size[clip] += LADDER[step] / 100
                direction[clip] = dirn
            if p.segment == 10:
                deduction[a] += INTERMEDIATE_SWING
                true_size[a] += INTERMEDIATE_SWING / 100
                direction[a] = 5
            if p.segment == 11:
                deduction[a] += FALL
                falls[a] = 1.0
        rhythm_chance = 1 / (1 + np.exp(1.2 + 1.1 * flow))
        rhythm = 10 * int(rng.binomial(3, rhythm_chance))  # whole exercise, on no clip
        located = int(deduction.sum())
        execution = max(1000 - located - rhythm, 0)
        penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))

        features = self.features(rng, segment, element_type, true_size, direction, falls, form, rhythm, flow)
        difficulty_points = difficulty / 100
        deduction_points = deduction / 100
        return JudgedVideo(
            name=name,
            features=features,
            truth={
                "difficulty": difficulty_points,
                "deduction": deduction_points,
                "contribution": difficulty_points - deduction_points,
                "element_type": element_type.astype(np.float64),
                "segment": segment.astype(np.float64),
            },
            marks={"difficulty": int(difficulty.sum()), "execution": execution, "penalty": penalty},
            video={"skill": skill, "form": form, "flow": flow, "rhythm": rhythm / 100, "located": located / 100,
                   "values": values_total / 100, "cr": cr_total / 100, "cv": cv_total / 100,
                   "counted": float(len(counted)), "elements": float(n),
                   "recognised": float(sum(recognised)), "falls": float(falls.sum()),
                   "penalty": penalty / 100},
        )

    @staticmethod
    def _family_direction(family: int) -> int:
        # circling, pirouette, release, transitions, mount; 5: linking; 6: dismount and landing
        return {CIRCLING: 0, PIROUETTE: 1, RELEASE: 2, DOWN: 3, UP: 3, MOUNT: 4, DISMOUNT: 6}[family]

    def _link_faults(self, segment: int, form: float, rng: np.random.Generator) -> list[int]:
        steps = []
        for _, base, top in LINK_CHECKS[segment]:
            if rng.random() < np.clip(FAULT_RATE * base * np.exp(-FAULT_FORM * form), 0.005, 0.5):
                big = top >= 2 and rng.random() < 1 / (1 + np.exp(1.3 + 0.6 * form))
                steps.append(2 if big else 1)
        return steps

    def features(self, rng, segment, element_type, true_size, direction, falls, form, rhythm, flow) -> np.ndarray:
        """(T, feature_dim) float32: the latent of each clip (what it shows, the bar, the style, form and
        faults, falls, rhythm on linking swings, AR(1) noise) through the sport's feature map."""
        length = len(segment)
        on_element = element_type >= 0
        latent = np.where(on_element[:, None], self.type_embedding[np.clip(element_type, 0, None)],
                          self.segment_embedding[segment])
        fam = np.where(on_element, FAMILY[np.clip(element_type, 0, None)], -1)
        latent = latent + np.where(on_element[:, None], self.family_embedding[np.clip(fam, 0, None)], 0.0)
        # which bar: after a transition up or a high-bar mount, until a transition down (and so on)
        bar = np.zeros(length)
        high = False
        for t in range(length):
            if element_type[t] >= 0:
                e = ELEMENTS[element_type[t]]
                high = (e.bar == "HB") if e.family == MOUNT else (False if e.family == DOWN else
                                                                   True if e.family == UP else high)
            bar[t] = 1.0 if high else -1.0
        on_bars = ~np.isin(segment, (0, 9, 11, 12))
        latent += (bar * on_bars)[:, None] * self.high_bar
        latent += (rng.normal(size=len(self.content)) @ self.content * 2.0 / np.sqrt(RANK))[None, :]  # style
        # form level on every clip on the bars; faults saturating along the body line and as a square
        # root along their family's direction
        sat = self.saturation[np.clip(direction, 0, None)]
        shown = -1.6 * (1 - np.exp(-true_size / sat)) * (true_size > 0)
        latent += ((0.35 * form * on_bars) + shown)[:, None] * self.line
        for d in range(7):
            here = (direction == d) & (true_size > 0)
            latent[here] -= 0.9 * np.sqrt(true_size[here] / 0.1)[:, None] * self.family_direction[d]
        latent += (3.0 * falls)[:, None] * self.fall_direction
        linking = np.isin(segment, (2, 3))
        latent += (linking * (0.3 * flow - 0.8 * rhythm / 10))[:, None] * self.tempo
        latent += ar1_noise(rng, length, RANK, 0.75) * 0.8 / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int,
             class_name: str = "Ball") -> Iterator[JudgedVideo]:
    """``count`` routines of one sport, named ``<class_name>_001`` ..."""
    sport = BarsSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_bars_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
