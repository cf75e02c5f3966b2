package moderation

// Signal is what a detector reports about one account: named measurements
// and the evidence behind them in words. A signal never decides anything.
type Signal struct {
	Name     string             `json:"name"`
	Values   map[string]float64 `json:"values"`
	Evidence string             `json:"evidence"`
}

// Account is what the judge knows about an account when it decides.
type Account struct {
	ID       string      `json:"id"`
	Type     AccountType `json:"type"`
	Verified bool        `json:"verified"`
	AgeDays  float64     `json:"age_days"`
	Strikes  int         `json:"strikes"`
	Status   Action      `json:"status"`
}
