package moderation

# bulk_add: a personal account sending friend requests to strangers in bulk.
# Only requests to strangers count (sources search, group, ...), so an
# organiser adding people who scan a QR code never trips it. New accounts get
# lower levels: a fresh account adding hundreds of strangers is the marketer's
# and the scammer's first move.
#
# Four rules read the same signal: bulk_add compares the last hour,
# bulk_add_day the last day, which catches an account that keeps under the
# hourly levels by adding strangers steadily all day, and bulk_add_week and
# bulk_add_month the last 7 and 30 days, which catch the slow drip: a few
# dozen strangers a day, every day, under the daily levels. In all four,
# requests their recipients report make the action one step stronger.
#
# The age judged is the account's effective age: an account that was silent
# for months and wakes up counts from when it woke, so a bought account
# adding strangers is held to the levels of a new one. A woken account may
# also be an old one that was quiet here, such as a group admin adding its
# group's members: they know it and accept, where the strangers a bought
# account asks ignore it. Its requests are therefore judged by how the
# strangers it asked answered, over 30 days (bulk_add.woken in data.json):
# until enough have answered, a new account's limit only warns and an
# established account's levels limit; once they have, it is judged as new
# if they mostly ignored or reported the requests, and as established if
# they mostly accepted.

# For each window, the bulk_add signal field its levels are compared against
# and the data.json key holding those levels.
_bulk_add_metric := {
	"hour": "hour_strangers",
	"day": "day_strangers",
	"week": "week_strangers",
	"month": "month_strangers",
}

_bulk_add_levels_key := {"hour": "levels", "day": "day_levels", "week": "week_levels", "month": "month_levels"}

_bulk_add_window_words := {"hour": "in one hour", "day": "in one day", "week": "in 7 days", "month": "in 30 days"}

# An account whose age is unknown gets the stricter levels of a new account.
_bulk_add_tier := "established" if {
	age := input.account.age_days
	is_number(age)
	age >= data.config.bulk_add.new_account_days
} else := "new"

# A woken account: new by its effective age only because it woke from a
# silence longer than a new account's whole life, or because nothing of its
# past is on record (an old account first seen before the service had
# watched long enough to tell a silence: bulk_add.unrecorded, a flag the
# detector sets only for an account older than a new account's whole
# life), which is judged the same way.
_bulk_add_woken if {
	_bulk_add_tier == "new"
	_bulk_add_signal("dormant_days") >= data.config.bulk_add.new_account_days
}

_bulk_add_woken if {
	_bulk_add_tier == "new"
	_bulk_add_unrecorded
}

_bulk_add_unrecorded if _bulk_add_signal("unrecorded") == 1

# What the owner is told of the account's past, and from when its age counts.
_bulk_add_past_words := "has no activity on record before its first activity here" if {
	_bulk_add_unrecorded
} else := sprintf("was silent for %v days before its current activity", [_bulk_add_signal("dormant_days")])

_bulk_add_age_from := "its first activity here" if {
	_bulk_add_unrecorded
} else := "when it became active again"

_bulk_add_woken_words := "an old account with no earlier activity on record" if {
	_bulk_add_unrecorded
} else := "an account woken from a long silence"

# What the strangers a woken account asked in the last 30 days made of its
# requests: pending until min_answers of them answered; then unwelcome when
# at least reject_ratio of them ignored or reported the request, else
# welcome. A missing count is pending, never welcome.
_bulk_add_answers := "pending" if {
	not _bulk_add_enough_answers
} else := "unwelcome" if {
	not _bulk_add_mostly_accepted
} else := "welcome"

_bulk_add_enough_answers if _bulk_add_signal("month_stranger_answers") >= data.config.bulk_add.woken.min_answers

_bulk_add_mostly_accepted if _bulk_add_signal("month_stranger_reject_ratio") < data.config.bulk_add.woken.reject_ratio

# A woken account whose strangers have not yet answered is given the benefit
# of the doubt only while it asks strangers from groups alone, as a group's
# admin adds its members: requests to strangers found by search or
# otherwise are a bought account's, answered or not (and a platform may
# never report answers at all). A missing count gives no benefit.
_bulk_add_groups_only if {
	_bulk_add_signal("woken_outside_groups") < data.config.bulk_add.woken.max_outside_groups
}

# The levels an account's requests are held to: its age tier's, except for
# a woken account whose strangers have not yet answered but which asks only
# in groups ("pending"), or whose strangers mostly accepted (established),
# and for any account whose strangers mostly ignored or reported it
# ("unwelcome"): a drip of strangers who say no is the marketer's, and
# waiting for the month's level would let it run.
_bulk_add_standing := "pending" if {
	_bulk_add_woken
	_bulk_add_answers == "pending"
	_bulk_add_groups_only
} else := "established" if {
	_bulk_add_woken
	_bulk_add_answers == "welcome"
} else := "unwelcome" if {
	_bulk_add_answers == "unwelcome"
} else := _bulk_add_tier

# Undefined for account types data.json gives no levels: the rules do not
# apply to them. While a woken account's answers are pending, a new
# account's limit is its warning and an established account's levels limit
# and suspend it.
_bulk_add_levels(window) := levels if {
	_bulk_add_standing == "pending"
	tiers := data.config.bulk_add[_bulk_add_levels_key[window]][input.account.type]
	levels := {
		"warn": min([tiers.new.limit, tiers.established.warn]),
		"limit": tiers.established.limit,
		"suspend": tiers.established.suspend,
	}
} else := levels if {
	# Unwelcome: its age tier's warning level limits it.
	_bulk_add_standing == "unwelcome"
	tiers := data.config.bulk_add[_bulk_add_levels_key[window]][input.account.type]
	levels := {"limit": tiers[_bulk_add_tier].warn, "suspend": tiers[_bulk_add_tier].suspend}
} else := data.config.bulk_add[_bulk_add_levels_key[window]][input.account.type][_bulk_add_standing]

_bulk_add_signal(field) := signal_value("bulk_add", field)

# The most severe level crossed in window, if any.
_bulk_add_level(window) := highest_level(_bulk_add_levels(window), _bulk_add_signal(_bulk_add_metric[window]))

_bulk_add_tier_words := sprintf("accounts under %v days", [data.config.bulk_add.new_account_days]) if {
	_bulk_add_tier == "new"
} else := sprintf("accounts %v days or older", [data.config.bulk_add.new_account_days])

# Who the levels are for, as the owner reads it, with what about the account
# chose them when its age alone did not.
_bulk_add_standing_words := sprintf("%s whose requests too few strangers have answered yet (this account %s; %v of the strangers it asked answered in the last 30 days, and until %v have, a new account's limit is a warning and an established account's levels apply)", [
	_bulk_add_woken_words,
	_bulk_add_past_words,
	_bulk_add_answer_count,
	data.config.bulk_add.woken.min_answers,
]) if {
	_bulk_add_standing == "pending"
} else := sprintf("accounts %v days or older (this account %s, but %v of the %v strangers who answered its requests in the last 30 days accepted them)", [
	data.config.bulk_add.new_account_days,
	_bulk_add_past_words,
	percent(1 - _bulk_add_signal("month_stranger_reject_ratio")),
	_bulk_add_answer_count,
]) if {
	_bulk_add_woken
	_bulk_add_standing == "established"
} else := sprintf("%s (this account %s, so its age counts from %s, and since then it asked %v strangers found outside groups, by search or otherwise, before enough of the strangers it asked had answered)", [
	_bulk_add_tier_words,
	_bulk_add_past_words,
	_bulk_add_age_from,
	_bulk_add_signal("woken_outside_groups"),
]) if {
	_bulk_add_woken
	_bulk_add_answers == "pending"
} else := sprintf("%s (this account %s, so its age counts from %s, and %v of the %v strangers who answered its requests in the last 30 days ignored or reported them, so the warning level is its limit)", [
	_bulk_add_tier_words,
	_bulk_add_past_words,
	_bulk_add_age_from,
	_bulk_add_reject_words,
	_bulk_add_answer_count,
]) if {
	_bulk_add_woken
	_bulk_add_standing == "unwelcome"
} else := sprintf("%s whose requests most strangers refuse (%v of the %v strangers who answered this account's requests in the last 30 days ignored or reported them, so the warning level is its limit)", [
	_bulk_add_tier_words,
	_bulk_add_reject_words,
	_bulk_add_answer_count,
]) if {
	_bulk_add_standing == "unwelcome"
} else := _bulk_add_tier_words

# A malformed share must not undo a decision, only its wording.
_bulk_add_reject_words := percent(_bulk_add_signal("month_stranger_reject_ratio")) if {
	is_number(_bulk_add_signal("month_stranger_reject_ratio"))
} else := "most"

_bulk_add_answer_count := n if {
	n := _bulk_add_signal("month_stranger_answers")
} else := 0

# What was seen, in the detector's words when it gave them.
_bulk_add_evidence(window) := e if {
	e := signal_evidence("bulk_add")
} else := sprintf("%v friend requests to strangers %s", [
	_bulk_add_signal(_bulk_add_metric[window]),
	_bulk_add_window_words[window],
])

# Enough of the people who answered the requests reported them as spam or
# abuse. The share is only trusted over a minimum of answers.
_bulk_add_reported if {
	_bulk_add_signal("report_ratio") >= data.config.bulk_add.reported.report_ratio
	_bulk_add_signal("responses") >= data.config.bulk_add.reported.min_responses
}

_bulk_add_raised(level) := step_up(level) if {
	_bulk_add_reported
} else := level

_bulk_add_reported_note(level, raised) := "" if {
	level == raised
} else := sprintf("; raised to %s because %v%% of the %v people who answered these requests reported them", [
	raised,
	round(_bulk_add_signal("report_ratio") * 100),
	_bulk_add_signal("responses"),
])

# The violation for window, without the rule's own metadata.
_bulk_add_violation(window) := {"action": action, "detail": detail} if {
	level := _bulk_add_level(window)
	raised := _bulk_add_raised(level)
	action := escalate(raised)
	detail := sprintf("%s; %s for %s: %v to strangers %s%s%s", [
		_bulk_add_evidence(window),
		level_words[level],
		_bulk_add_standing_words,
		_bulk_add_levels(window)[level],
		_bulk_add_window_words[window],
		_bulk_add_reported_note(level, raised),
		escalation_note(raised, action),
	])
}

# An account judged as new although it was created long ago: its current
# run of activity followed a silence longer than a new account's whole life,
# or nothing of its past is on record, so its effective age starts with its
# current activity. Said, because the owner sees an old account held to a
# new one's levels.
_bulk_add_dormant_note := sprintf(" (this account %s, so its age counts from %s)", [
	_bulk_add_past_words,
	_bulk_add_age_from,
]) if {
	_bulk_add_woken
} else := ""

# METADATA
# title: Friend requests to strangers in bulk
# description: >-
#   A personal account sends more friend requests to strangers in one hour
#   than data.json allows for its age: warn, then limit friend requests, then
#   suspend. Requests their recipients report, and earlier strikes, each
#   raise the action one step; enough recent strikes turn a suspension into
#   closing the account.
# custom:
#   ground: "Platform rules 4.2: bulk or automated friend requests"
#   explanation: >-
#     This account sent a large number of friend requests within one hour to
#     people it has no connection with, such as people found by search or in
#     groups. Sending friend requests in bulk is how spam, scams and unwanted
#     advertising reach people, so it is not allowed. Depending on how many
#     requests were sent, on how many of the people asked reported them, and
#     on earlier actions against the account, it gets a warning, cannot send
#     friend requests for a while, or is suspended; an account that was
#     limited or suspended several times recently is closed instead of
#     suspended. This notice says which, and until when. Adding people who
#     scan your QR code or share your contact card is not affected. If you
#     think this is a mistake, you can appeal.
violations contains {
	"rule": "bulk_add",
	"action": v.action,
	"reason": {"code": "bulk_add", "detail": v.detail},
	"restricts": data.config.bulk_add.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	v := _bulk_add_violation("hour")
	meta := rego.metadata.rule()
}

# METADATA
# title: Friend requests to strangers all day
# description: >-
#   A personal account sends more friend requests to strangers in one day
#   than data.json allows for its age, even if it stays under the hourly
#   levels: warn, then limit friend requests, then suspend. Requests their
#   recipients report, and earlier strikes, each raise the action one step;
#   enough recent strikes turn a suspension into closing the account.
# custom:
#   ground: "Platform rules 4.2: bulk or automated friend requests"
#   explanation: >-
#     Over one day this account sent friend requests to a very large number
#     of people it has no connection with, such as people found by search or
#     in groups, at a steady pace. Adding strangers in bulk is how spam, scams
#     and unwanted advertising reach people, whether it happens in one burst
#     or spread over a whole day, so it is not allowed. Depending on how many
#     requests were sent, on how many of the people asked reported them, and
#     on earlier actions against the account, it gets a warning, cannot send
#     friend requests for a while, or is suspended; an account that was
#     limited or suspended several times recently is closed instead of
#     suspended. This notice says which, and until when. Adding people who
#     scan your QR code or share your contact card is not affected. If you
#     think this is a mistake, you can appeal.
violations contains {
	"rule": "bulk_add_day",
	"action": v.action,
	"reason": {"code": "bulk_add_day", "detail": v.detail},
	"restricts": data.config.bulk_add.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	v := _bulk_add_violation("day")
	meta := rego.metadata.rule()
}

# METADATA
# title: Friend requests to strangers day after day
# description: >-
#   A personal account sends more friend requests to strangers over 7 days
#   than data.json allows for its effective age, even if every hour and day
#   stays under their levels: warn, then limit friend requests, then
#   suspend. Requests their recipients report, and earlier strikes, each
#   raise the action one step; enough recent strikes turn a suspension into
#   closing the account.
# custom:
#   ground: "Platform rules 4.2: bulk or automated friend requests"
#   explanation: >-
#     Over the last 7 days this account sent friend requests to a very large
#     number of people it has no connection with, such as people found by
#     search or in groups, a few dozen every day. Adding strangers in bulk is
#     how spam, scams and unwanted advertising reach people, whether it
#     happens in one burst or is spread over days, so it is not allowed. An
#     account that was silent for months is judged from when it became
#     active again. Depending on how many requests were sent, on how many of
#     the people asked reported them, and on earlier actions against the
#     account, it gets a warning, cannot send friend requests for a while,
#     or is suspended; an account that was limited or suspended several
#     times recently is closed instead of suspended. This notice says which,
#     and until when. Adding people who scan your QR code or share your
#     contact card is not affected. If you think this is a mistake, you can
#     appeal.
violations contains {
	"rule": "bulk_add_week",
	"action": v.action,
	"reason": {"code": "bulk_add_week", "detail": v.detail},
	"restricts": data.config.bulk_add.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	v := _bulk_add_violation("week")
	meta := rego.metadata.rule()
}

# METADATA
# title: Friend requests to strangers all month
# description: >-
#   A personal account sends more friend requests to strangers over 30 days
#   than data.json allows for its effective age, even if every hour, day and
#   week stays under their levels: warn, then limit friend requests, then
#   suspend. Requests their recipients report, and earlier strikes, each
#   raise the action one step; enough recent strikes turn a suspension into
#   closing the account.
# custom:
#   ground: "Platform rules 4.2: bulk or automated friend requests"
#   explanation: >-
#     Over the last 30 days this account sent friend requests to a very
#     large number of people it has no connection with, such as people found
#     by search or in groups, a steady number every day. Adding strangers in
#     bulk is how spam, scams and unwanted advertising reach people, however
#     slowly it is done, so it is not allowed. An account that was silent for
#     months is judged from when it became active again. Depending on how
#     many requests were sent, on how many of the people asked reported
#     them, and on earlier actions against the account, it gets a warning,
#     cannot send friend requests for a while, or is suspended; an account
#     that was limited or suspended several times recently is closed instead
#     of suspended. This notice says which, and until when. Adding people
#     who scan your QR code or share your contact card is not affected. If
#     you think this is a mistake, you can appeal.
violations contains {
	"rule": "bulk_add_month",
	"action": v.action,
	"reason": {"code": "bulk_add_month", "detail": v.detail},
	"restricts": data.config.bulk_add.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	v := _bulk_add_violation("month")
	meta := rego.metadata.rule()
}

# Every level of every account type and tier, whether or not it applies to
# the account at hand: watch is a property of the policy, not of an input.
watched contains {"metric": concat(".", ["bulk_add", metric]), "level": threshold} if {
	some window, metric in _bulk_add_metric
	some tiers in data.config.bulk_add[_bulk_add_levels_key[window]]
	some levels in tiers
	some threshold in levels
}

watched contains {"metric": "bulk_add.report_ratio", "level": data.config.bulk_add.reported.report_ratio}

# A woken account's standing changes when enough strangers have answered,
# and again when their share of refusals rises to the level.
watched contains {"metric": "bulk_add.month_stranger_answers", "level": data.config.bulk_add.woken.min_answers}

watched contains {"metric": "bulk_add.month_stranger_reject_ratio", "level": data.config.bulk_add.woken.reject_ratio}

watched contains {"metric": "bulk_add.woken_outside_groups", "level": data.config.bulk_add.woken.max_outside_groups}

# A silence as long as a new account's whole life makes an account woken,
# and so does a past as long with no record.
watched contains {"metric": "bulk_add.dormant_days", "level": data.config.bulk_add.new_account_days}

watched contains {"metric": "bulk_add.unrecorded", "level": 1}

# The account's own age is compared too: the judge's memo of actions keys
# on the levels it has reached, not on its age in days.
watched contains {"metric": "account.age_days", "level": data.config.bulk_add.new_account_days}

watched contains {"metric": "bulk_add.responses", "level": data.config.bulk_add.reported.min_responses}
