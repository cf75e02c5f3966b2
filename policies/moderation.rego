# Package moderation decides what happens to an account, given the signals
# detectors report about it. Each rule lives in its own file in this package
# and adds to two partial sets:
#
#   violations: {rule, action, reason: {code, detail}, restricts, title,
#                ground, explanation}, with title, ground and explanation
#                read from the rule's own # METADATA; optionally duration,
#                when the rule's measure lasts longer or shorter than the
#                action's default in data.json;
#   watched:    {metric, level}, every level the rule compares a signal to.
#
# This file turns them into the two documents the Go judge reads: decision
# and watch. Thresholds live in data.json under config, never in rules.
package moderation

# The enforcement ladder, mildest first: an action's index is its severity.
ladder := ["allow", "warn", "limit", "suspend", "close"]

severity[action] := i if some i, action in ladder

# strikes counts the account's earlier enforcement. Anything that is not a
# number counts as none: a malformed field must not escalate anybody.
#
# Contract with the Go judge: input.account.strikes is the number of earlier
# episodes that ended in limit or a stronger measure and have not expired,
# that is, whose decision is less than data.config.strike_expiry_days old at
# the time of the event. The judge does the counting and the expiry, so the
# policy only ever sees that number: the measure in force for the current
# episode is not among them (an episode must not escalate itself), and
# warnings never count. strike_expiry_days is read here only to tell the
# owner which period the count covers.
strikes := n if {
	n := input.account.strikes
	is_number(n)
} else := 0

# escalate gives the action for a level a rule crossed, given the account's
# earlier strikes. One strike goes one step further up the ladder (warn to
# limit, limit to suspend), never from suspend to close. Closing for repeated
# abuse is a separate step: when that gives suspend and the account has at
# least close_after_strikes strikes, the action is close. So strikes take a
# warning no further than limit; a level that is limit (also when a rule's
# own step_up made it one) or suspend closes at close_after_strikes.
escalate(level) := "close" if {
	strike_step(level) == "suspend"
	strikes >= data.config.close_after_strikes
} else := strike_step(level)

# strike_step is the one step earlier strikes raise a level, short of close.
strike_step(level) := ladder[severity[level] + 1] if {
	strikes >= data.config.strikes_to_escalate
	severity[level] < severity.suspend
} else := level

# step_up gives the action one step stronger than level, for a rule's own
# aggravating factor (fraud complaints, requests reported by their
# recipients). It never reaches close: closing takes repeated abuse
# (escalate) or a rule whose own level is close (severe abuse).
step_up(level) := ladder[severity[level] + 1] if {
	severity[level] < severity.suspend
} else := level

# signal_value is the number a detector reported as input.signals[name][field];
# undefined when it is missing or not a number, so a malformed field never
# crosses a level.
signal_value(name, field) := n if {
	n := input.signals[name][field]
	is_number(n)
}

# signal_evidence is the evidence a detector wrote for signal name, when it
# wrote any; a rule describes the numbers itself otherwise.
signal_evidence(name) := e if {
	e := input.signals[name].evidence
	is_string(e)
	e != ""
}

# highest_level is the most severe action in levels (an object from action
# to threshold) whose threshold value reaches; undefined when it reaches
# none. Every rule that compares one signal against levels per action
# reads its level through this.
highest_level(levels, value) := ladder[max(crossed)] if {
	crossed := {severity[level] |
		some level, threshold in levels
		value >= threshold
	}
	count(crossed) > 0
}

# level_words names a level crossed, for a rule's detail.
level_words := {"warn": "warning level", "limit": "limit", "suspend": "suspension level"}

# escalation_note tells the owner why the action is stronger than the level
# crossed; it is empty when strikes changed nothing.
escalation_note(level, action) := "" if {
	level == action
} else := sprintf("; closed because this account was suspended or limited %s in the last %v days", [
	times(strikes),
	data.config.strike_expiry_days,
]) if {
	action == "close"
} else := sprintf("; raised to %s because of earlier strikes on this account (%v)", [action, strikes])

# times writes a count of occasions the way an owner reads it.
times(n) := "once" if {
	n == 1
} else := "twice" if {
	n == 2
} else := sprintf("%v times", [n])

# percent writes a share the way an owner reads it: 0.0123 as "1.23%".
percent(x) := sprintf("%v%%", [round(x * 10000) / 100])

# METADATA
# title: Moderation decision
# description: >-
#   The one decision for an account's current signals: the most severe
#   violation decides the action, and every violation is listed as a reason.
#   Always defined; allow when nothing is violated.
# entrypoint: true
default decision := {
	"action": "allow",
	"reasons": [],
	"duration": "",
	"restricts": [],
	"rule": "",
	"title": "",
	"ground": "",
	"explanation": "",
	"automated_decision": "",
	"appealable": false,
}

decision := {
	"action": top.action,
	"reasons": [v.reason | some v in ranked],
	"duration": duration,
	"restricts": restricts,
	"rule": top.rule,
	"title": top.title,
	"ground": top.ground,
	"explanation": top.explanation,
	# No person takes part in a decision made here; reviewers' decisions on
	# appeals are recorded elsewhere as "not".
	"automated_decision": "fully",
	"appealable": top.action in data.config.appealable_actions,
} if {
	top := ranked[0]
}

# ranked lists the violations most severe first. Ties go in rule-name order,
# so the same violations always give the same decision and the same reasons.
ranked := [v |
	some entry in sort([[0 - severity[x.action], x.rule, x] | some x in violations])
	v := entry[2]
]

# duration is how long the measure lasts: the longest any violation of the
# deciding action asks for (its own duration, else the action's default in
# data.json), so one rule's measure is never cut short by another's. Empty
# when that is empty (warn, close).
duration := max(durations)[1] if {
	count(durations) > 0
} else := ""

durations contains [time.parse_duration_ns(d), d] if {
	some v in violations
	v.action == ranked[0].action
	d := object.get(v, "duration", object.get(data.config.durations, v.action, ""))
	d != ""
}

# restricts names the capabilities a limit takes away: those of every rule
# that limits. A warning takes nothing away, and suspend or close take
# everything, so for them the list is empty.
restricts := sort({c |
	some v in violations
	v.action == "limit"
	some c in v.restricts
}) if {
	ranked[0].action == "limit"
} else := []

# METADATA
# title: Watched levels
# description: >-
#   Contract with the Go judge. watch maps a signal metric, as
#   "<signal>.<field>" under input.signals, to the sorted levels at which
#   this policy's answer can change. Every rule compares a signal as
#   value >= level, so for a fixed account the decision is constant while
#   the value stays between two neighbouring levels; the judge therefore
#   evaluates again only when a metric crosses one of them (old < level <=
#   new, or new < level <= old). A rule that compares a metric against a
#   level missing here would be evaluated too late, so every rule adds each
#   level it uses to watched, read from data.json, never restated. Changes
#   to the account itself (strikes, age, type) are not covered: the judge
#   evaluates again when those change. A rule that compares the account's
#   age adds its levels as "account.age_days" (the only metric not a
#   signal's): they trigger nothing, but let the judge remember actions by
#   the age levels reached rather than by the age in days.
# entrypoint: true
watch[metric] := levels if {
	some w in watched
	metric := w.metric
	levels := sort({x.level | some x in watched; x.metric == metric})
}
