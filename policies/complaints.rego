package moderation

# complaint_rate: recipients complain about an account's broadcasts more
# often than its account type allows. Only credible complaints count: the
# detector discounts reporters who complain together about many unrelated
# accounts in a short time (a brigade) or who complain far more than is
# typical (complaint events carry no reporter age, so a reporter new to the
# platform is not told apart), so an account reported only by a brigade is
# never actioned here, however many complaints it drew. The rate
# compared is the Wilson lower bound over credible complaints, so a small
# audience is not judged on chance, and a minimum count of credible
# complaints keeps a tiny account, where one complaint is 5%, from ever
# being actioned. Complaints of fraud weigh more: enough of them make the
# action one step stronger, and a storm of them (complaint_fraud) closes the
# account on the first occurrence, again only on credible complaints.

# Undefined for account types data.json gives no levels.
_complaints_levels := data.config.complaint_rate.levels[input.account.type]

_complaints_signal(field) := signal_value("complaint_rate", field)

_complaints_level := highest_level(_complaints_levels, _complaints_signal("credible_wilson_lower")) if {
	_complaints_signal("credible_complaints") >= data.config.complaint_rate.min_complaints
}

_complaints_raised(level) := step_up(level) if {
	_complaints_signal("reason_fraud") >= data.config.complaint_rate.min_fraud_complaints
} else := level

_complaints_fraud_note(level, raised) := "" if {
	level == raised
} else := sprintf("; raised to %s because %v of the complaints report fraud", [raised, _complaints_signal("reason_fraud")])

_complaints_evidence := e if {
	e := signal_evidence("complaint_rate")
} else := sprintf("%v credible complaints in 7 days, credible complaint rate at least %s%s", [
	_complaints_signal("credible_complaints"),
	percent(_complaints_signal("credible_wilson_lower")),
	_complaints_brigade_note,
])

# What was left out, so the owner sees a brigade was not held against them.
# The detector's evidence says so itself; this is for when it gave none.
_complaints_brigade_note := sprintf("; %v complaints from %v reporters acting as a brigade were not counted", [
	_complaints_signal("brigade_complaints"),
	_complaints_signal("brigade_reporters"),
]) if {
	_complaints_signal("brigade_complaints") > 0
} else := ""

# METADATA
# title: Many complaints about broadcasts
# description: >-
#   Credible recipients complain about the account's broadcasts over 7 days
#   at a rate (95% Wilson lower bound over credible complaints only) at or
#   above the level data.json sets for its type, with at least the minimum
#   number of credible complaints; complaints from a brigade or from
#   reporters who complain far more than is typical are not counted: warn,
#   then limit
#   broadcasting, then suspend. Enough complaints of fraud, and earlier
#   strikes, each raise the action one step; enough recent strikes turn a
#   suspension into closing the account.
# custom:
#   ground: "Platform rules 5.1: broadcasts recipients report as abusive"
#   explanation: >-
#     Over the last 7 days an unusually large share of the people who
#     received this account's broadcasts complained about them, for example
#     as spam, advertising, fraud or harassment. The share is worked out so
#     that a small audience is not judged on a handful of complaints, and a
#     few complaints alone never lead to action. Complaints from people who
#     complain together about many accounts at once, or from people who
#     complain far more than others, are not counted, so a group reporting
#     an account together cannot have it limited. Depending on how many people
#     complained, on whether they reported fraud, and on earlier actions
#     against the account, it gets a warning, cannot send broadcasts for a
#     while, or is suspended; an account that was limited or suspended
#     several times recently is closed instead of suspended. This notice
#     says which, and until when. If you think this is a mistake, you can
#     appeal.
violations contains {
	"rule": "complaint_rate",
	"action": action,
	"reason": {"code": "complaint_rate", "detail": detail},
	"restricts": data.config.complaint_rate.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _complaints_level
	raised := _complaints_raised(level)
	action := escalate(raised)
	detail := sprintf("%s; %s for %s accounts: a credible complaint rate of at least %s with %v or more credible complaints%s%s", [
		_complaints_evidence,
		level_words[level],
		input.account.type,
		percent(_complaints_levels[level]),
		data.config.complaint_rate.min_complaints,
		_complaints_fraud_note(level, raised),
		escalation_note(raised, action),
	])
	meta := rego.metadata.rule()
}

# A fraud storm: many recipients report fraud and the complaint rate is far
# above every type's suspension level. One level for every account type, but
# like the rule above only for types data.json gives levels.
_complaints_close := data.config.complaint_rate.close

# A brigade reporting fraud is not a storm: the credible complaints alone
# must reach the closing count and rate.
_complaints_fraud_storm if {
	_complaints_levels
	_complaints_signal("reason_fraud") >= _complaints_close.reason_fraud
	_complaints_signal("credible_complaints") >= _complaints_close.reason_fraud
	_complaints_signal("credible_wilson_lower") >= _complaints_close.wilson_lower
}

_complaints_fraud_evidence := e if {
	e := signal_evidence("complaint_rate")
} else := sprintf("%v complaints of fraud in 7 days, credible complaint rate at least %s%s", [
	_complaints_signal("reason_fraud"),
	percent(_complaints_signal("credible_wilson_lower")),
	_complaints_brigade_note,
])

# METADATA
# title: Fraud reported by many recipients
# description: >-
#   Severe abuse, closed without earlier strikes: in 7 days at least the
#   number of complaints of fraud data.json sets for closing, at least as
#   many credible complaints, at a credible complaint rate (95% Wilson lower
#   bound) at or above its closing level, for an
#   account type complaint_rate has levels for. Close, with no end date: the
#   account is frozen until an appeal or the purge.
# custom:
#   ground: "Platform rules 5.2: fraud and scams"
#   explanation: >-
#     Over the last 7 days a large number of the people who received this
#     account's broadcasts reported them as fraud, and the share of people
#     complaining is far higher than any account is allowed. Fraud does
#     immediate harm to the people it reaches, so the account is closed now,
#     even without earlier actions against it. A closed account is frozen:
#     it cannot send broadcasts or friend requests, and it is not deleted
#     while it can still be appealed. This notice says until when you can
#     appeal. If you think this is a mistake, you can appeal.
violations contains {
	"rule": "complaint_fraud",
	"action": "close",
	"reason": {"code": "complaint_fraud", "detail": detail},
	"restricts": [],
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	_complaints_fraud_storm
	detail := sprintf("%s; closing level for every account type: %v or more complaints of fraud at a credible complaint rate of at least %s", [
		_complaints_fraud_evidence,
		_complaints_close.reason_fraud,
		percent(_complaints_close.wilson_lower),
	])
	meta := rego.metadata.rule()
}

watched contains {"metric": "complaint_rate.credible_complaints", "level": data.config.complaint_rate.min_complaints}

# Not levels any rule acts on: the account is judged when a brigade first
# shows among its reporters, and again as it grows, so the pipeline
# records the brigade for review (its complaints are discounted above).
watched contains {"metric": "complaint_rate.brigade_reporters", "level": n} if some n in [1, 5, 25]

watched contains {"metric": "complaint_rate.reason_fraud", "level": data.config.complaint_rate.min_fraud_complaints}

watched contains {"metric": "complaint_rate.credible_wilson_lower", "level": threshold} if {
	some levels in data.config.complaint_rate.levels
	some threshold in levels
}

watched contains {"metric": "complaint_rate.reason_fraud", "level": data.config.complaint_rate.close.reason_fraud}

watched contains {"metric": "complaint_rate.credible_complaints", "level": data.config.complaint_rate.close.reason_fraud}

watched contains {"metric": "complaint_rate.credible_wilson_lower", "level": data.config.complaint_rate.close.wilson_lower}
