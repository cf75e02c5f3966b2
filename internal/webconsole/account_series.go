package webconsole

import (
	"encoding/json"
	"slices"
	"time"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/detectors"
	"moderation/detectors/adtext"
)

// The account page's charts are what the detectors counted, recounted from
// the account's retained events (GetTimeline) and bucketed here, on the
// server, with the levels of the live policy's data.json drawn in. They
// are a picture of the history for a person; the detectors' own numbers
// now are the signals, shown beside them.

const (
	// maxHours bounds the friend-requests chart: the last two weeks.
	maxHours = 14 * 24
	// maxDays bounds the daily charts.
	maxDays = 90
	// complaintDays is the window of the complaint_rate detector: a day's
	// rate is its last seven days' complaints over their deliveries.
	complaintDays = 7
	// adRing and adThreshold are the ad_content detector's: the share of
	// ads among the last 20 broadcasts, a broadcast being an ad when the
	// model scores it 0.5 or more.
	adRing      = 20
	adThreshold = 0.5
)

// chart is one uPlot chart: x (unix seconds) and one or more series, and
// the policy's levels for it as horizontal lines.
type chart struct {
	ID     string      `json:"id"`
	Title  string      `json:"title"`
	Unit   string      `json:"unit"`
	X      []int64     `json:"x"`
	Step   int64       `json:"step,omitempty"` // seconds between x values, for padding the axis
	Names  []string    `json:"names"`
	Y      [][]float64 `json:"y"`
	Levels []level     `json:"levels"`
	Note   string      `json:"note,omitempty"`
	// Categories, when set, name the x values 0, 1, … and the series are
	// drawn as bars.
	Categories []string `json:"categories,omitempty"`
}

// level is a threshold of the policy: at or above it, the named measure.
type level struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// accountKind is what the policy's levels depend on.
type accountKind struct {
	Type     string // personal, subscription, service, enterprise
	Verified bool
	Created  time.Time // zero if no event said
}

// kindOf reads the account's type from its latest event that carries one.
func kindOf(evs []*moderationv1.TimelineEvent) accountKind {
	k := accountKind{Type: "personal"}
	for _, te := range slices.Backward(evs) {
		if info := te.GetEvent().GetAccountInfo(); info != nil && info.GetType() != "" {
			k.Type, k.Verified = info.GetType(), info.GetVerified()
			if info.GetCreatedAt() != nil {
				k.Created = info.GetCreatedAt().AsTime()
			}
			return k
		}
	}
	return k
}

// policyConfig is data.json's config document, read loosely: a candidate
// policy may lay it out otherwise, and then its levels are not drawn.
type policyConfig map[string]any

func parseConfig(dataJSON string) policyConfig {
	var doc struct {
		Config map[string]any `json:"config"`
	}
	if json.Unmarshal([]byte(dataJSON), &doc) != nil {
		return nil
	}
	return doc.Config
}

// at walks the document by keys; nil if any is missing.
func (c policyConfig) at(keys ...string) any {
	var v any = map[string]any(c)
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func (c policyConfig) num(keys ...string) (float64, bool) {
	f, ok := c.at(keys...).(float64)
	return f, ok
}

// levelsAt lists the named levels under keys that are present, in order.
func (c policyConfig) levelsAt(names []string, keys ...string) []level {
	var out []level
	for _, n := range names {
		if v, ok := c.num(append(slices.Clone(keys), n)...); ok {
			out = append(out, level{Name: n, Value: v})
		}
	}
	return out
}

func verifiedKey(v bool) string {
	if v {
		return "verified"
	}
	return "unverified"
}

// accountCharts counts the account's events into the page's four charts.
func accountCharts(evs []*moderationv1.TimelineEvent, cfg policyConfig, k accountKind, now time.Time) []chart {
	var friends, broadcasts []time.Time
	type bc struct {
		at         time.Time
		recipients float64
		ad         bool
	}
	var sent []bc
	var complaints []time.Time
	model := adtext.Default()
	for _, te := range evs {
		e := te.GetEvent()
		at := e.GetAt().AsTime()
		switch e.GetKind() {
		case "friend_add":
			friends = append(friends, at)
		case "broadcast":
			broadcasts = append(broadcasts, at)
			b := e.GetBroadcast()
			sent = append(sent, bc{at: at, recipients: float64(b.GetRecipients()), ad: model.Score(b.GetText()) >= adThreshold})
		case "complaint":
			complaints = append(complaints, at)
		}
	}

	// Friend requests per hour, with the hour's levels for a new or an
	// established account.
	age := "established"
	if days, ok := cfg.num("bulk_add", "new_account_days"); ok && !k.Created.IsZero() && now.Sub(k.Created) < time.Duration(days*24)*time.Hour {
		age = "new"
	}
	hourX, hourY := buckets(friends, time.Hour, maxHours, now)
	fr := chart{ID: "friends", Step: 3600, Title: "Friend requests per hour", Unit: "requests", X: hourX, Names: []string{"requests"}, Y: [][]float64{hourY},
		Levels: cfg.levelsAt([]string{"warn", "limit", "suspend"}, "bulk_add", "levels", k.Type, age),
		Note:   "levels for a " + age + " " + k.Type + " account"}

	// Broadcasts per day against the quota.
	dayX, dayY := buckets(broadcasts, 24*time.Hour, maxDays, now)
	br := chart{ID: "broadcasts", Step: 86400, Title: "Broadcasts per day", Unit: "broadcasts", X: dayX, Names: []string{"broadcasts"}, Y: [][]float64{dayY}}
	quotaKeys := []string{"broadcast_quota", "quotas", k.Type, verifiedKey(k.Verified)}
	if q, ok := cfg.num(append(quotaKeys, "quota")...); ok {
		period, _ := cfg.at(append(quotaKeys, "period")...).(string)
		br.Levels = append([]level{{Name: "quota", Value: q}}, cfg.levelsAt([]string{"warn", "limit"}, append(quotaKeys, "levels")...)...)
		br.Note = "quota per " + period + " for a " + verifiedKey(k.Verified) + " " + k.Type + " account"
	} else {
		br.Note = "no broadcast quota for a " + k.Type + " account"
	}

	// Complaint rate over the trailing seven days, with its 95% Wilson
	// lower bound (what the policy holds the account to).
	cr := chart{ID: "complaints", Step: 86400, Title: "Complaint rate (7 days)", Unit: "rate", Names: []string{"rate", "lower bound (95%)"},
		Levels: cfg.levelsAt([]string{"warn", "limit", "suspend"}, "complaint_rate", "levels", k.Type)}
	if len(sent) > 0 || len(complaints) > 0 {
		cr.X = spanOf(append(slices.Clone(broadcasts), complaints...), 24*time.Hour, maxDays, now)
		rate, lower := make([]float64, len(cr.X)), make([]float64, len(cr.X))
		for i, x := range cr.X {
			end := time.Unix(x, 0).Add(24 * time.Hour)
			start := end.Add(-complaintDays * 24 * time.Hour)
			var t detectors.ComplaintTotals
			for _, b := range sent {
				if !b.at.Before(start) && b.at.Before(end) {
					t.Delivered += b.recipients
				}
			}
			for _, c := range complaints {
				if !c.Before(start) && c.Before(end) {
					t.Complaints++
				}
			}
			rate[i], lower[i] = t.Rate(), t.Lower()
		}
		cr.Y = [][]float64{rate, lower}
	} else {
		cr.Y = [][]float64{nil, nil}
	}

	// Share of ads among the last 20 broadcasts, at each day's end.
	ad := chart{ID: "ads", Step: 86400, Title: "Share of ads (last 20 broadcasts)", Unit: "share", Names: []string{"share"}}
	if s, ok := cfg.num("ad_content", "levels", k.Type, "share"); ok {
		ad.Levels = []level{{Name: "share", Value: s}}
	}
	ad.X = spanOf(broadcasts, 24*time.Hour, maxDays, now)
	share := make([]float64, len(ad.X))
	for i, x := range ad.X {
		end := time.Unix(x, 0).Add(24 * time.Hour)
		n, ads := 0, 0
		for j := len(sent) - 1; j >= 0 && n < adRing; j-- {
			if sent[j].at.Before(end) {
				n++
				if sent[j].ad {
					ads++
				}
			}
		}
		if n > 0 {
			share[i] = float64(ads) / float64(n)
		}
	}
	ad.Y = [][]float64{share}
	return []chart{fr, br, cr, ad}
}

// buckets counts times into buckets of size d (see spanOf), empty ones
// included.
func buckets(ts []time.Time, d time.Duration, limit int, now time.Time) ([]int64, []float64) {
	xs := spanOf(ts, d, limit, now)
	ys := make([]float64, len(xs))
	if len(xs) == 0 {
		return xs, ys
	}
	first := xs[0]
	for _, t := range ts {
		i := int((t.Truncate(d).Unix() - first) / int64(d.Seconds()))
		if i >= 0 && i < len(ys) {
			ys[i]++
		}
	}
	return xs, ys
}

// minBuckets is the fewest buckets a chart spans (a week of days, seven
// hours), so a short history is seen against the quiet before it, and a
// single bucket is not drawn alone.
const minBuckets = 7

// spanOf is the bucket starts from the earliest time's (or minBuckets
// before now's) to now's, at most limit of them, the latest; none without
// times.
func spanOf(ts []time.Time, d time.Duration, limit int, now time.Time) []int64 {
	if len(ts) == 0 {
		return nil
	}
	hi := slices.MaxFunc(append([]time.Time{now}, ts...), time.Time.Compare).Truncate(d)
	lo := slices.MinFunc([]time.Time{slices.MinFunc(ts, time.Time.Compare).Truncate(d), hi.Add(-(minBuckets - 1) * d)}, time.Time.Compare)
	if n := int(hi.Sub(lo)/d) + 1; n > limit {
		lo = hi.Add(-time.Duration(limit-1) * d)
	}
	var xs []int64
	for t := lo; !t.After(hi); t = t.Add(d) {
		xs = append(xs, t.Unix())
	}
	return xs
}
