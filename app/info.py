"""What each page and lesson is, in plain words, after the NetLogo models library's Info
tab: what it is, how it works, things to notice, things to try; and a short glossary.

The words are for a class of nursing students, not for programmers: no file names, no code
names and no modellers' jargon, in short sentences. :func:`plain_words_problems` and
:func:`long_sentences` say what breaks that rule, and ``tests/app/test_info.py`` runs them
on every text here and in the lessons (:func:`app.lessons.all_infos`).

Where the panels go: ``InfoPanel(PAGES[name])`` near the top of each page ("explore",
"compare", "plan", "teach"), ``InfoPanel(PAGES["network"], title="About the network view")``
under the network view, and ``Glossary()`` wherever a class may need a word explained.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import solara
from reacton import ipyvuetify as v

from coprod_sim.mechanisms.power import LADDER


@dataclass(frozen=True)
class Info:
    """A page's or a lesson's Info panel."""

    what_it_is: str
    how_it_works: str
    things_to_notice: tuple[str, ...]
    things_to_try: tuple[str, ...]

    def texts(self) -> tuple[str, ...]:
        """Every sentence shown, for checks."""
        return (self.what_it_is, self.how_it_works, *self.things_to_notice, *self.things_to_try)


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------
EXPLORE = Info(
    what_it_is=(
        "A live model of an improvement collaborative in HIV care, run week by week. It starts "
        "from CaReQIC, a Caribbean programme of 26 clinic teams. At each clinic, patients, "
        "providers and a manager work together to improve care. You set up the teams, then "
        "watch trust, stigma and care change."
    ),
    how_it_works=(
        "Each step is one week. Every clinic has an improvement team: the manager, a few "
        "providers and seats for patient representatives. The team meets every four weeks. "
        "Representatives who trust the team come to meetings, and speak up when the meeting "
        "feels safe. Only a few people get a turn to speak, and staff tend to speak first, "
        "less so when power is shared. Staff suggest changes to what they assume matters to "
        "patients. Representatives suggest changes to what matters to their own group. The "
        "rung on Arnstein's ladder sets how much weight patients' ideas get, and how equal "
        "representatives are in the room. The team tests the "
        "best ideas in small cycles, and puts the ones that work into use. Better care makes "
        "visits go well more often. A good visit builds a patient's trust a little, and a bad "
        "one takes away more. Trust and stigma decide whether patients stay in care and keep "
        "taking their treatment. Working side by side with representatives lowers providers' "
        "stigma toward the representatives' groups."
    ),
    things_to_notice=(
        "The trust chart has three lines. Patients' trust in providers moves slowly. Each visit "
        "changes it a little, and it rests on their group's long history with health care.",
        "Providers' regard for patients rises in every preset, even with no representatives. "
        "It grows as patients turn up to their visits. Compare presets to see what the team "
        "adds.",
        "Representatives' trust rises when the team reports back on their input, and falls "
        "when their input is ignored. With no seats for representatives, this line sits at "
        "zero: there is no one to measure.",
        "On the stigma chart, stigma toward the key populations starts much higher than toward "
        "the general group. It changes mostly when providers on the team meet a "
        "representative of that group. Colleagues then pass their attitudes on to each other.",
        "With deliberate inclusion the seats go to key populations, so stigma toward the "
        "general group hardly moves.",
        "A contact that goes badly pushes stigma up more than a good one pulls it down. In the "
        "tokenistic preset, stigma toward some groups can rise.",
        "The changes chart counts every change a clinic has adopted so far, split by who "
        "suggested it. It never goes down, even when a clinic later drops a change.",
        "Even in a partnership most changes come from staff. Staff hold more of the seats, and "
        "they often speak first.",
        "On the value chart, each coloured line shows how well care serves one group. The "
        "black line is the equity gap: the best-served group minus the worst-served. Watch "
        "whether it widens.",
        "The retention chart shows the share of patients still in care. About six in ten are "
        "in care at the start, and the share moves slowly.",
        "With a crisis on, a dashed line marks the week it starts. Team meetings stop, visits "
        "go badly more often and changes wear away faster.",
        "This is one run: one possible history. Change only the seed and the lines change too. "
        "The Compare page runs many paired replications, and those are the results to trust.",
        "Many of the model's numbers are assumptions, not measurements from real clinics. They "
        "are illustrative: read the charts for direction and shape, not for exact levels.",
    ),
    things_to_try=(
        "Set power sharing to 4 (consultation) and run to week 78. Note the changes chart and "
        "the value chart. Then try 7 (delegated power) with the same seed.",
        "Set the feedback loop to 0 and watch representatives' trust on the trust chart.",
        "Change who becomes a representative to whoever staff reach most easily. Watch the "
        "stigma chart, and the equity gap on the value chart.",
        "Set patients' initial trust to 0.2 and run to week 208. Does trust climb, or does it "
        "stay stuck?",
        "Set the seats for patient representatives to 0. What happens on the changes chart "
        "and the stigma chart?",
        "Raise managers' support from 0.3 to 0.9 and watch the stigma chart.",
        "Turn on a crisis. Run it with a top-down recovery, then with a coproduced one, on the "
        "same seed. How fast does representatives' trust come back?",
        "Save the scenario as a file. Load it again later with the same seed, and the charts "
        "come out the same.",
    ),
)

NETWORK = Info(
    what_it_is=(
        "A picture of one clinic: who works with whom, and who sees whom. Each mark is a "
        "person. It is redrawn every week as the model runs."
    ),
    how_it_works=(
        "Each kind of person has a shape of its own, named in the legend. The square in the "
        "middle is the manager. Providers sit on a circle: diamonds are on the improvement "
        "team, hexagons are not. Triangles near the middle are patient representatives on the "
        "team. Patients are dots beyond the provider who sees them, and crosses once they "
        "have left care. Patients sit in rings, one ring for each group, shaded in the "
        "group's colour. Dark lines join the manager to the team. Green dashed lines join "
        "each provider on the team to each representative: these are the meetings where "
        "working together can lower stigma. Grey lines join colleagues, who pass changes and "
        "attitudes on to each other. Light lines join each patient to their provider. Choose "
        "trust, stigma or group to colour the marks. Values are shown out of 10, and a "
        "darker colour means more."
    ),
    things_to_notice=(
        "The layout never moves. When a mark changes colour, something changed in the model, "
        "not in the drawing. Only a patient who joins or leaves the team moves.",
        "With trust, a patient shows their trust in providers, and a provider their regard "
        "for patients.",
        "With stigma, a patient shows the stigma they meet from their own provider toward "
        "their group. So patients of one group who share a provider share a colour.",
        "Choose a patient group, and the other groups fade. In the stigma view each provider "
        "then shows their stigma toward that group.",
        "Providers joined to representatives by green dashed lines meet them at meetings. In "
        "the stigma view, watch whether they grow lighter before the others.",
        "Some seats may be empty at the start. An invited patient is more likely to say yes "
        "when they trust providers, and when their own group speaks well of the team.",
        "Only ties inside this clinic are drawn. Providers on the team also have ties to teams "
        "at other clinics, which are not shown.",
        "The manager has no colour: the model gives managers no trust or stigma of their own.",
    ),
    things_to_try=(
        "Point at a triangle to see which group that representative comes from. Compare "
        "deliberate inclusion with whoever staff reach most easily.",
        "Run to week 52, then switch between trust and stigma.",
        "Choose sex workers as the group and colour by stigma. Which providers would a sex "
        "worker meet, and how much stigma do they hold?",
        "Pick another clinic from the site list, and compare who holds the seats there.",
        "Choose the staff-led preset. There are no triangles, and providers' stigma hardly moves.",
        "Turn on a crisis and watch the patients' colours in the trust view during the crisis "
        "weeks.",
    ),
)

COMPARE = Info(
    what_it_is=(
        "Two to four designs of the collaborative side by side, each run many times. It shows "
        "which design did better on each outcome, and how sure you can be."
    ),
    how_it_works=(
        "Each design starts from a preset, with its main controls changed. Under its controls "
        "the design is written out in words. Every design is run the same number of times, "
        "and each run is called a replication. Replication 1 of every design starts from the "
        "same chance events, and so on for the others. So each difference is taken run by run, "
        "like with like: these are paired replications. Each design after A is compared with "
        "A. For each outcome you set the smallest difference that would change a decision. "
        "The page then gives a verdict, using a 95% interval. The verdict is better by at "
        "least that much, worse by at least that much, no important difference, or unclear."
    ),
    things_to_notice=(
        "Read the verdict sentences first. Unclear means the interval is too wide to say "
        "whether the difference matters.",
        "No important difference is a finding too. The whole interval lies closer to zero "
        "than the smallest difference that matters.",
        "For stigma and the equity gap, lower is better. The verdicts take this into account.",
        "For retention and viral suppression, the sentences also give the difference in people.",
        "The table gives each outcome's mean level over the whole run. A design that gets "
        "there sooner shows up here, even when the last week looks the same.",
        "Each chart shows a design's difference from A over the weeks. The band is the 95% "
        "interval, and the dashed line is no difference.",
        "Many intervals are shown at once, so a few may look clear by chance. The Bonferroni "
        "box widens every interval so that all of them hold together.",
        "The smallest differences that matter start at the project's own assumptions. Change "
        "one and the verdicts change at once, with no new run.",
        "Change a design or a run setting after a run, and the results are marked stale until "
        "you run again.",
        "The model's numbers are illustrative unless it has been calibrated to real data. The "
        "results show how the mechanisms play out, not what a real collaborative will achieve.",
    ),
    things_to_try=(
        "Run the default pair: the tokenistic preset as A and CaReQIC as B. Which outcomes are "
        "better by at least the smallest difference that matters?",
        "Raise the replications from 5 to 20. Watch the intervals narrow, and see whether any "
        "unclear verdicts become clear.",
        "Make A and B the same preset, then change only the feedback loop: 0.9 against 0.",
        "Add design C, the staff-led preset. Compare the value of care with tokenism.",
        "Set a larger smallest difference for patients' trust, and see which verdicts change.",
        "Run 156 weeks instead of 78. Some differences take more than a year to show.",
    ),
)

PLAN = Info(
    what_it_is=(
        "A planning tool for a collaborative that has not started yet. It weighs two to six "
        "designs across many possible futures, with their costs, against targets you set. It "
        "then names a robust choice: the design that holds up best across those futures."
    ),
    how_it_works=(
        "Each design is the 26-clinic CaReQIC collaborative with its main choices set. Under "
        "what you do not know, you give a range for things nobody can be sure of, such as "
        "patients' initial trust. The page draws a set of futures spread across those ranges. "
        "Every design runs in every future on the same chance events, so all designs meet the "
        "same luck. Costs come from the unit costs you give: staff time, stipends, learning "
        "sessions, coaching and preparation. A rule then picks the robust choice. One rule "
        "picks the design that meets every target in the most futures. The other picks the "
        "design whose worst shortfall against the best design is smallest."
    ),
    things_to_notice=(
        "The sentence on the robust choice says how often it meets every target, with an "
        "interval. With only a few futures, that interval is wide.",
        "The ranking table puts cost beside results. Cost per extra person is only given where "
        "the gain over the first design is clear.",
        "Regret is counted in people: how many fewer people a design helps than the best "
        "design in the same future.",
        "The section on where each design misses its targets names the futures it fails in. "
        "Often that is about the context, such as low initial trust, more than the design.",
        "The comparisons with the first design are adjusted for how many are made, so that "
        "their intervals hold together.",
        "A stipend for representatives counts as a cost only. The model has no evidence on "
        "whether paying people keeps them on a team.",
        "The default plan is small, so that it runs in about half a minute. Treat its results "
        "as a sketch.",
        "The unit costs, the targets and most of the model's numbers are illustrative. The "
        "comparison between designs is what a plan shows, not the levels.",
    ),
    things_to_try=(
        "Run the default plan, with staff-led, tokenistic and CaReQIC designs. Which is the "
        "robust choice, and how often does it meet the target?",
        "Add a design that starts from the partnership preset. Is the result worth its cost?",
        "Switch the rule to the least worst-case regret. Does the robust choice change?",
        "Narrow the range of patients' initial trust to what you believe about your own country.",
        "Raise the futures from 8 to 24 and run again. Does the choice hold? It takes longer.",
        "Set the stipend to zero and see how the costs of the designs change.",
        "Download the report to share with a committee. It opens without the internet.",
    ),
)

TEACH = Info(
    what_it_is=(
        "Ten lessons for a class. Nine of them each show one stylized fact: a pattern that "
        "studies of coproduction report, and that the model should reproduce. The tenth tells "
        "the CaReQIC story, of people living with HIV as partners on every clinic team."
    ),
    how_it_works=(
        "Each lesson has three steps: predict, run, explain. First the class picks what it "
        "expects, from three choices. Then the app runs two designs of the collaborative that "
        "differ in one respect. They run side by side as paired replications, on the same "
        "chance events, so each difference is taken run by run. The app starts with ten "
        "pairs. It adds five more at a time until the answer is clear, or forty pairs have run. "
        "The answer is clear when the 95% interval of the difference leaves out zero, or "
        "shows that any difference is too small to matter. Last, the app says which "
        "prediction the runs support. It tells the story of the runs, with every number "
        "measured, and points at the highlighted chart. Only the account of how the model "
        "works is written in advance."
    ),
    things_to_notice=(
        "Every class gets the same runs of a lesson, because its chance events are fixed. The "
        "result names how many replications it took.",
        "The highlighted chart is the one the story talks about. The other charts show what "
        "else changed.",
        "Each lesson says how its two designs differ, and what they share. Only that "
        "difference can explain the result.",
        "The bands around each line are 95% intervals. Overlapping bands do not settle it: the "
        "paired interval in the story does, because it compares the designs run by run.",
        "Some effects are slow. Stigma falls over years, so the contact lesson runs for three.",
        "When the answer is still unclear after forty pairs, the story says so. That is an "
        "honest result, not a failure.",
        "A clear answer here is about the direction of the difference. The Compare page asks "
        "more: is the difference big enough to matter?",
    ),
    things_to_try=(
        "Before each run, let the class argue for its prediction. Then run it and compare.",
        "Press more replications and watch the interval narrow. Does the answer hold?",
        "Start with the CaReQIC story, then open the lesson on tokenism to see why shared "
        "power matters.",
        "After the lesson on closing the loop, set up the same two designs on the Compare "
        "page. Add a third that reports back half the time.",
        "On the Explore page, set up one of the lesson's designs and watch a single run week "
        "by week. One run is one possible history; the lesson's pairs show what holds.",
    ),
)

#: One Info per page; "network" is the network view on the Explore page.
PAGES: dict[str, Info] = {
    "explore": EXPLORE,
    "network": NETWORK,
    "compare": COMPARE,
    "plan": PLAN,
    "teach": TEACH,
}


# ---------------------------------------------------------------------------------------------
# The glossary
# ---------------------------------------------------------------------------------------------
#: What each rung of Arnstein's ladder means, in the ladder's order (rung 1 first).
_RUNGS = (
    "Patients sit on a committee to be persuaded, not to be heard. This is non-participation.",
    "Patients are involved only to change their own attitudes or behaviour, not the service. "
    "This is non-participation.",
    "Staff tell patients what has been decided. Information flows one way. This is the first "
    "rung of tokenism.",
    "Patients are asked for their views, but staff are free to ignore them. This is tokenism.",
    "Patients get a few seats and may advise, but they are kept in the minority and staff "
    "decide. This is tokenism.",
    "Patients and staff plan and decide together. This is the first rung of citizen power.",
    "Patients have the main say over some decisions. This is citizen power.",
    "Patients run the work and make the decisions themselves. This is citizen power.",
)

#: Short plain definitions, in an order that reads from the idea to the numbers.
GLOSSARY: dict[str, str] = {
    "coproduction": (
        "People at every level of care improving it together, as equal partners. Patients "
        "and carers bring lived experience; clinicians and managers bring learned experience. "
        "They work together from the start, on every stage of a change."
    ),
    "improvement collaborative": (
        "A programme in which many clinic teams work on the same aim, for a year or so. Each "
        "team tests changes at its own clinic. The teams meet at learning sessions to share "
        "what works."
    ),
    "learning session": (
        "A meeting of all the teams in a collaborative, where they share changes that worked. "
        "In the model there are three in the year of outside support."
    ),
    "PDSA cycle": (
        "Plan, Do, Study, Act: a small test of a change. A team tries the change on a small "
        "scale, studies what happened and adjusts it. A change that passes its tests is then "
        "put into use."
    ),
    "CaReQIC": (
        "A Caribbean improvement collaborative in HIV care, with 26 teams in Jamaica, "
        "Suriname, Trinidad and Tobago, and Barbados. People living with HIV, including key "
        "populations, sat on its teams as partners."
    ),
    "representative": (
        "A patient who holds a seat on a clinic's improvement team and speaks from their "
        "group's experience. Also called a community representative."
    ),
    "key populations": (
        "Groups most affected by HIV, who often meet stigma in care and are hard to reach. In "
        "this model they are men who have sex with men, sex workers, transgender people and "
        "people living unhoused."
    ),
    "deliberate inclusion": (
        "Offering the team's seats first to key populations that have no seat yet."
    ),
    "whoever staff reach most easily": (
        "Inviting the patients that staff find easiest to reach. They are often the most "
        "engaged and visible patients, and seldom from the key populations."
    ),
    "Arnstein's ladder": (
        "A scale of how much power citizens, here patients, really have. It has eight rungs "
        "in three bands: non-participation (rungs 1 and 2), tokenism (rungs 3 to 5) and "
        "citizen power (rungs 6 to 8). In the model, a higher rung gives patients' ideas more "
        "weight and puts representatives on a more equal footing with staff."
    ),
    **{
        f"{name} (rung {i})": meaning
        for i, (name, meaning) in enumerate(zip(LADDER, _RUNGS, strict=True), 1)
    },
    "tokenism": (
        "Involving patients in name only: they are present or asked, but what they say "
        "changes little. In the model, input that is thanked but not used, or a seat without "
        "a turn to speak, can feel like tokenism and costs trust."
    ),
    "power sharing": (
        "How much say patients have in what the team decides: the rung on Arnstein's ladder."
    ),
    "trust both ways": (
        "Trust runs in two directions: patients' trust in providers, and providers' regard "
        "for patients. The trust chart shows both."
    ),
    "patients' trust in providers": (
        "How much a patient expects care to go well, from 0 to 1. Good experiences build it, "
        "and bad ones take away more than good ones add. It also rests on their group's "
        "history with health care, which changes only over years."
    ),
    "providers' regard for patients": (
        "How much a provider trusts and values their patients, from 0 to 1. It grows when "
        "patients turn up to their visits, and when contact with representatives goes well."
    ),
    "stigma": (
        "Negative attitudes toward a group of people, such as judging or avoiding them. Here "
        "it means a provider's stigma toward each patient group, from 0 to 1. Patients who "
        "meet more stigma have fewer good visits, and leave care and stop treatment more "
        "often."
    ),
    "Allport's conditions": (
        "Four conditions that help contact between groups reduce prejudice: equal status, "
        "common goals, cooperation and support from those in charge. In the model, contact "
        "that goes well helps even without them, and more with them."
    ),
    "managers' support": (
        "How strongly managers back the work. It is one of Allport's conditions, and it also "
        "helps new ways of working spread among providers."
    ),
    "psychological safety": (
        "Feeling safe to speak up without blame or shame. In the model it grows with power "
        "sharing, ground rules and providers' regard for patients."
    ),
    "ground rules": (
        "Agreements made before a team starts: a safe space, confidentiality and no blame. "
        "CaReQIC held separate preparatory sessions for representatives and for providers."
    ),
    "feedback loop": (
        "Telling representatives what became of their input. Input that is reported back "
        "builds their trust. When input was not used, reporting back still makes it feel "
        "valued some of the time. Input that vanishes without a word costs trust, and "
        "representatives may leave."
    ),
    "value of care": (
        "How well care gives a group what matters to it, from 0 to 1. Each group weighs "
        "things such as confidentiality, safe waiting, opening hours and respectful care "
        "differently."
    ),
    "equity gap": (
        "The value of care to the best-served group minus the value to the worst-served "
        "group. A smaller gap means fairer care."
    ),
    "organisational and practice changes": (
        "An organisational change is decided for the whole clinic, such as taking names off "
        "sign-in sheets or longer pharmacy hours. A practice change is a way of working, such "
        "as respectful care, that spreads from provider to provider."
    ),
    "retention in care": (
        "The share of patients enrolled at a clinic who are still in care. Patients leave more "
        "often when trust is low, stigma is high or care does not meet their needs. Tracing "
        "can bring them back."
    ),
    "adherence": (
        "Taking HIV treatment as prescribed. In the model it lapses more often with mistrust "
        "and stigma, and counselling at a visit can restore it."
    ),
    "viral-load test": (
        "A blood test that measures how much HIV is in the blood. It shows whether treatment "
        "is working."
    ),
    "viral suppression": (
        "When treatment keeps the amount of HIV in the blood very low. It follows from taking "
        "treatment as prescribed for weeks to months, and it is lost when treatment stops."
    ),
    "crisis": (
        "A time when managers take charge and decide alone, often called command and control. "
        "In the model team meetings stop, visits are strained and changes wear away faster."
    ),
    "top-down and coproduced recovery": (
        "Two ways back from a crisis. In a top-down recovery, managers decide and patients "
        "are informed, with nothing reported back on their input. In a coproduced recovery, "
        "patients help lead the way back as partners."
    ),
    "preset": (
        "A ready-made scenario to start from, such as CaReQIC, tokenistic, partnership, "
        "staff-led or crisis."
    ),
    "seed": (
        "A number that fixes the chance events in a run. The same scenario and seed always "
        "give the same run."
    ),
    "replication": (
        "One run of a design. Running a design many times, each with other chance events, "
        "shows how much its results vary."
    ),
    "common random numbers": (
        "Giving every design the same chance events in each replication. Then a difference "
        "between designs comes from the designs, not from luck."
    ),
    "paired replications": (
        "Replications compared in pairs: replication 1 of design B against replication 1 of "
        "design A, and so on. Comparing pair by pair is fairer, and usually gives a narrower "
        "interval."
    ),
    "95% interval": (
        "A range of likely values for a result, given the runs. If the whole comparison were "
        "repeated many times, about 95 in 100 such ranges would hold the true value. A narrow "
        "interval means the runs agree."
    ),
    "minimum important difference": (
        "The smallest difference that would change a decision, in the outcome's own units. "
        "For example, 0.02 of a share is two percentage points."
    ),
    "verdict": (
        "What an interval says to someone deciding. Better or worse by at least the minimum "
        "important difference, when the whole interval lies beyond it. No important "
        "difference, when the whole interval lies within it on both sides of zero. Otherwise "
        "unclear."
    ),
    "Bonferroni adjustment": (
        "Widening every interval when many are shown at once, so that all of them hold "
        "together with 95% confidence."
    ),
    "future": (
        "On the Plan page, one possible version of the things nobody knows, such as patients' "
        "initial trust. Every design runs in every future."
    ),
    "robust choice": (
        "The design that holds up best across all the futures, by the rule you chose."
    ),
    "regret": (
        "In one future, how many fewer people a design helps than the best design in that "
        "future. Worst-case regret is the largest regret over all the futures."
    ),
    "satisficing": ("A rule that picks the design that meets every target in the most futures."),
}


# ---------------------------------------------------------------------------------------------
# Plain words: what a class should not meet
# ---------------------------------------------------------------------------------------------
#: The longest sentence allowed, in words (a modest reading age).
MAX_SENTENCE_WORDS = 35
#: Names of programmes written with inner capitals, which are not code.
PROPER_NAMES = frozenset({"CaReQIC", "JaQIC"})
#: Programmers' and modellers' words, matched as whole words, in any case.
JARGON = (
    "beta reputation",
    "datacollector",
    "dataframe",
    "numpy",
    "pandas",
    "solara",
    "mesa",
    "vega",
    "networkx",
    "parquet",
    "toml",
    "json",
    "python",
    "docstring",
    "odd protocol",
    "ipywidgets",
    "latin hypercube",
    "prim",
    "bootstrap",
    "deffuant",
    "granovetter",
    "bass",
    "bounded confidence",
    "efraimidis",
    "gumbel",
    "dirichlet",
    "logistic",
    "sigmoid",
    "kwargs",
    "module",
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a backtick", re.compile(r"`")),
    ("a file name", re.compile(r"\b[\w-]+\.(?:py|md|toml|csv|json|parquet|html|vue|txt|ipynb)\b")),
    ("a path", re.compile(r"[A-Za-z_][\w.-]*/|\\")),
    ("the package's name", re.compile(r"\bcoprod(?:_sim|\b)", re.IGNORECASE)),
    ("a name with an underscore", re.compile(r"\S*_\S*")),
    ("a dotted name", re.compile(r"\b[A-Za-z_]\w*\.[A-Za-z_]\w+")),
    ("a call", re.compile(r"\b\w+\(\)")),
    ("a command-line option", re.compile(r"(?<![\w-])--\w")),
    ("a Greek symbol", re.compile(r"[α-ωΑ-Ω]")),
    (
        "jargon",
        re.compile(r"\b(?:" + "|".join(re.escape(w) for w in JARGON) + r")\b", re.IGNORECASE),
    ),
)
_INNER_CAPITAL = re.compile(r"\b[A-Za-z][a-z]*[A-Z]\w*\b")  # camelCase, PascalCase
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def plain_words_problems(text: str) -> list[str]:
    """What in ``text`` a class should not meet (file names, paths, code names, jargon), as
    "a file name: 'feedback.py'"; empty when the text is in plain words."""
    found = [
        f"{what}: {m.group(0)!r}" for what, pattern in _PATTERNS for m in pattern.finditer(text)
    ]
    found += [
        f"a code name: {m.group(0)!r}"
        for m in _INNER_CAPITAL.finditer(text)
        if m.group(0) not in PROPER_NAMES and not m.group(0).removesuffix("s").isupper()
    ]
    return found


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after ., ! or ? and a space)."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def long_sentences(text: str, limit: int = MAX_SENTENCE_WORDS) -> list[str]:
    """The sentences of ``text`` longer than ``limit`` words."""
    return [s for s in sentences(text) if len(s.split()) > limit]


# ---------------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------------
_PANEL_STYLE = {"max-width": "760px", "line-height": "1.45"}
_HEADING_STYLE = {"font-weight": "bold", "display": "block", "margin-top": "8px"}


@solara.component
def Folded(summary: str, body: Callable[[], None], classes: list[str]) -> None:
    """A panel folded away until opened, like ``solara.Details``, whose ``body`` is built only
    once it is opened: every element on a page adds to the cost of redrawing it after each
    step, and a folded panel's text would be paid for at every step of a run."""
    opened, set_opened = solara.use_state(False)
    with (
        v.ExpansionPanels(
            v_model=0 if opened else None, on_v_model=lambda shown: set_opened(shown == 0)
        ),
        v.ExpansionPanel(),
    ):
        v.ExpansionPanelHeader(children=[summary])
        with v.ExpansionPanelContent(), solara.Div(classes=classes, style=_PANEL_STYLE):
            if opened:
                body()


@solara.component
def InfoPanel(info: Info, title: str = "About this page") -> None:
    """The Info panel, folded away until opened (a class sees the charts first): what it
    is and how it works as paragraphs, things to notice and to try as lists."""

    def body() -> None:
        for heading, text, name in (
            ("What it is", info.what_it_is, "info-what"),
            ("How it works", info.how_it_works, "info-how"),
        ):
            solara.Text(heading, style=_HEADING_STYLE)
            solara.Text(text, classes=[name], style={"display": "block"})
        for heading, items, name in (
            ("Things to notice", info.things_to_notice, "info-notice"),
            ("Things to try", info.things_to_try, "info-try"),
        ):
            solara.Text(heading, style=_HEADING_STYLE)
            with v.Html(tag="ul", class_=name, style_="margin: 2px 0 0 0"):
                for line in items:
                    v.Html(tag="li", children=[line], style_="margin-bottom: 3px")

    Folded(title, body, ["info-panel"])


@solara.component
def Glossary(title: str = "Glossary", terms: Mapping[str, str] | None = None) -> None:
    """The words the app uses, each with a short plain definition, folded away until opened
    (by default every term of :data:`GLOSSARY`)."""
    shown = GLOSSARY if terms is None else terms

    def body() -> None:
        with v.Html(tag="dl", style_="margin: 0"):
            for term, meaning in shown.items():
                v.Html(
                    tag="dt",
                    children=[term],
                    class_="glossary-term",
                    style_="font-weight: bold; margin-top: 6px",
                )
                v.Html(
                    tag="dd",
                    children=[meaning],
                    class_="glossary-meaning",
                    style_="margin: 0 0 0 16px",
                )

    Folded(title, body, ["glossary"])
