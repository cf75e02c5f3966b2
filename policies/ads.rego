package moderation

# ad_content: an account whose broadcasts are largely advertising AND
# whose audience complains about them. Neither alone is enough: a brand whose
# followers signed up for its offers may post ads all day, and a news account
# full of links draws a few complaints from a huge audience. The complaint
# levels need both a rate (the Wilson lower bound over credible complaints,
# fair to small and huge audiences alike, and blind to a brigade) and a
# count of complaints that name advertising, so one complaint on a tiny
# audience never counts as many.
#
# Followers who leave say the same as followers who complain: ad_unfollows
# judges the unfollow rate after broadcasts (its Wilson lower bound, with a
# minimum count of unfollows) beside complaints, so an ad account whose
# followers leave quietly is caught, and a brand whose followers stay is
# not.

# Undefined for account types data.json gives no levels.
_ads_levels := data.config.ad_content.levels[input.account.type]

# A large share of a large enough sample of recent broadcasts read as ads:
# the share is data.json's, well under half, so ordinary posts between the
# ads (one before each, or two in every five) do not hide an ad account;
# the complaint or unfollow levels beside it are what spare an account
# whose followers want its offers.
_ads_heavy if {
	signal_value("ad_content", "share") >= _ads_levels.share
	signal_value("ad_content", "broadcasts") >= _ads_levels.min_broadcasts
}

_ads_actions := ["limit", "suspend"]

_ads_level := ladder[max(crossed)] if {
	_ads_heavy
	crossed := {severity[level] |
		some level in _ads_actions
		signal_value("complaint_rate", "credible_wilson_lower") >= _ads_levels[level].wilson_lower
		signal_value("complaint_rate", "reason_ads") >= _ads_levels[level].reason_ads
		signal_value("complaint_rate", "credible_complaints") >= _ads_levels[level].reason_ads
	}
	count(crossed) > 0
}

_ads_evidence := e if {
	e := signal_evidence("ad_content")
} else := sprintf("%s of the last %v broadcasts read as advertising", [
	percent(signal_value("ad_content", "share")),
	signal_value("ad_content", "broadcasts"),
])

_ads_complaint_evidence := e if {
	e := signal_evidence("complaint_rate")
} else := sprintf("%v complaints about advertising, credible complaint rate at least %s", [
	signal_value("complaint_rate", "reason_ads"),
	percent(signal_value("complaint_rate", "credible_wilson_lower")),
])

# Both advertising rules limit for ad_content's own durations where
# data.json gives one, else the action's default.
_ads_duration(action) := object.get(data.config.ad_content.durations, action, object.get(data.config.durations, action, ""))

# METADATA
# title: Advertising that followers complain about
# description: >-
#   A large share of an account's recent broadcasts read as ads (share and
#   sample size from data.json) and its audience complains: a credible
#   complaint rate (95% Wilson lower bound over complaints not discounted as
#   a brigade's) and a count of complaints about advertising, as many of
#   them credible,
#   both at the level data.json sets for the account type. Limit
#   broadcasting for a week, or suspend when the complaints are severe.
#   Earlier strikes raise the action one step; enough recent strikes turn a
#   suspension into closing the account.
# custom:
#   ground: "Platform rules 5.3: unwanted advertising in broadcasts"
#   explanation: >-
#     Many of this account's recent broadcasts are advertising, and
#     many of the people who receive them have complained about the
#     advertising. Advertising is allowed, and accounts whose followers are
#     happy with it are not affected; broadcasts that turn into ads the
#     audience does not want are not. Depending on how many people
#     complained, and on earlier actions against the account, it cannot send
#     broadcasts for a while or is suspended; an account that was limited or
#     suspended several times recently is closed instead of suspended. This
#     notice says which, and until when. Sending fewer ads and more of what your followers came for
#     keeps this from happening again. If you think this is a mistake, you
#     can appeal.
violations contains {
	"rule": "ad_content",
	"action": action,
	"reason": {"code": "ad_content", "detail": detail},
	"restricts": data.config.ad_content.restricts,
	"duration": _ads_duration(action),
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _ads_level
	action := escalate(level)
	thresholds := _ads_levels[level]
	detail := sprintf("%s; %s; %s for %s accounts: ads in %s or more of at least %v broadcasts, with a credible complaint rate of at least %s and %v or more complaints about advertising, as many of them credible%s", [
		_ads_evidence,
		_ads_complaint_evidence,
		level_words[level],
		input.account.type,
		percent(_ads_levels.share),
		_ads_levels.min_broadcasts,
		percent(thresholds.wilson_lower),
		thresholds.reason_ads,
		escalation_note(level, action),
	])
	meta := rego.metadata.rule()
}

watched contains {"metric": "ad_content.share", "level": levels.share} if {
	some levels in data.config.ad_content.levels
}

watched contains {"metric": "ad_content.broadcasts", "level": levels.min_broadcasts} if {
	some levels in data.config.ad_content.levels
}

watched contains {"metric": concat(".", ["complaint_rate", metric]), "level": threshold} if {
	some levels in data.config.ad_content.levels
	some level in _ads_actions
	some field, metric in {"wilson_lower": "credible_wilson_lower", "reason_ads": "reason_ads"}
	threshold := levels[level][field]
}

watched contains {"metric": "complaint_rate.credible_complaints", "level": levels[level].reason_ads} if {
	some levels in data.config.ad_content.levels
	some level in _ads_actions
}

# ---- ad_unfollows: followers leave after the ads ----

_ads_unfollow_level := highest_level(object.filter(levels, _ads_actions), signal_value("complaint_rate", "unfollow_wilson_lower")) if {
	_ads_heavy
	levels := _ads_levels.unfollows
	signal_value("complaint_rate", "unfollows") >= levels.min_unfollows
}

# The complaint_rate signal's evidence reports unfollows beside complaints.
_ads_unfollow_evidence := e if {
	e := signal_evidence("complaint_rate")
} else := sprintf("%v unfollows in 7 days, unfollow rate at least %s of delivered broadcasts", [
	signal_value("complaint_rate", "unfollows"),
	percent(signal_value("complaint_rate", "unfollow_wilson_lower")),
])

# METADATA
# title: Advertising that drives followers away
# description: >-
#   A large share of an account's recent broadcasts read as ads (share and
#   sample size from data.json) and its followers leave: at least
#   data.json's number of unfollows in 7 days, at an unfollow rate per
#   delivered broadcast (95% Wilson lower bound) at or above the level
#   data.json sets for the account type, with or without complaints. Limit
#   broadcasting for a week, or suspend when followers leave in droves.
#   Earlier strikes raise the action one step; enough recent strikes turn a
#   suspension into closing the account.
# custom:
#   ground: "Platform rules 5.3: unwanted advertising in broadcasts"
#   explanation: >-
#     Many of this account's recent broadcasts are advertising, and an
#     unusually large share of the people who received them stopped
#     following the account. Followers leaving after ads is the clearest
#     sign that they do not want them, even when nobody complains.
#     Advertising is allowed, and accounts whose followers stay are not
#     affected; broadcasts that turn into ads the audience does not want are
#     not. The share is worked out so that a small audience is not judged on
#     a handful of people leaving. Depending on how many followers left, and
#     on earlier actions against the account, it cannot send broadcasts for
#     a while or is suspended; an account that was limited or suspended
#     several times recently is closed instead of suspended. This notice
#     says which, and until when. Sending fewer ads and more of what your
#     followers came for keeps this from happening again. If you think this
#     is a mistake, you can appeal.
violations contains {
	"rule": "ad_unfollows",
	"action": action,
	"reason": {"code": "ad_unfollows", "detail": detail},
	"restricts": data.config.ad_content.restricts,
	"duration": _ads_duration(action),
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _ads_unfollow_level
	action := escalate(level)
	detail := sprintf("%s; %s; %s for %s accounts: ads in %s or more of at least %v broadcasts, with an unfollow rate of at least %s of delivered broadcasts and %v or more unfollows%s", [
		_ads_evidence,
		_ads_unfollow_evidence,
		level_words[level],
		input.account.type,
		percent(_ads_levels.share),
		_ads_levels.min_broadcasts,
		percent(_ads_levels.unfollows[level]),
		_ads_levels.unfollows.min_unfollows,
		escalation_note(level, action),
	])
	meta := rego.metadata.rule()
}

watched contains {"metric": "complaint_rate.unfollows", "level": levels.unfollows.min_unfollows} if {
	some levels in data.config.ad_content.levels
}

watched contains {"metric": "complaint_rate.unfollow_wilson_lower", "level": levels.unfollows[level]} if {
	some levels in data.config.ad_content.levels
	some level in _ads_actions
}
