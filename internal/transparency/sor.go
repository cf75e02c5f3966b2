// Package transparency turns the decisions stream into what people outside
// the pipeline read: the audit trail, searched and exported by reviewers
// (trail.go, entry.go, export.go), and statements of reasons in the format
// of the EU DSA Transparency Database API (this file), which must carry no
// personal data (redact.go).
package transparency

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"moderation/internal/moderation"
)

// Statement is one statement of reasons as the Transparency Database API
// takes it (POST /api/v1/statements, inside {"statements": [...]}). Field
// names and enumerated values are the API's. Optional fields this service
// has nothing to say in are left out; account_type, content_language and
// source_identity are left out on purpose (source_identity would name
// reporters).
type Statement struct {
	// decision_visibility and decision_monetary are not used: the service
	// restricts accounts, not single items of content or payments.
	DecisionProvision string `json:"decision_provision,omitempty"`
	DecisionAccount   string `json:"decision_account,omitempty"`

	DecisionGround                 string `json:"decision_ground"`
	DecisionGroundReferenceURL     string `json:"decision_ground_reference_url,omitempty"`
	IncompatibleContentGround      string `json:"incompatible_content_ground"`
	IncompatibleContentExplanation string `json:"incompatible_content_explanation"`

	Category              string   `json:"category"`
	CategorySpecification []string `json:"category_specification,omitempty"`
	ContentType           []string `json:"content_type"`
	ContentTypeOther      string   `json:"content_type_other,omitempty"`
	TerritorialScope      []string `json:"territorial_scope"`

	ContentDate     string `json:"content_date"`
	ApplicationDate string `json:"application_date"`
	// At most one end date is set, the one of the restriction made;
	// absent means indefinite.
	EndDateServiceRestriction string `json:"end_date_service_restriction,omitempty"`
	EndDateAccountRestriction string `json:"end_date_account_restriction,omitempty"`

	DecisionFacts      string `json:"decision_facts"`
	SourceType         string `json:"source_type"`
	AutomatedDetection string `json:"automated_detection"`
	AutomatedDecision  string `json:"automated_decision"`
	PUID               string `json:"puid"`
}

// Batch is the body of one call to the API's multiple-statement endpoint.
type Batch struct {
	Statements []Statement `json:"statements"`
}

// BatchSize is the most statements the API takes in one call.
const BatchSize = 100

// The API's enumerated values this service uses, and its limits on free
// text (in characters).
const (
	ProvisionPartialSuspension = "DECISION_PROVISION_PARTIAL_SUSPENSION"

	AccountSuspended  = "DECISION_ACCOUNT_SUSPENDED"
	AccountTerminated = "DECISION_ACCOUNT_TERMINATED"

	GroundIncompatible = "DECISION_GROUND_INCOMPATIBLE_CONTENT"

	CategoryScamsAndFraud   = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
	CategoryScopeOfPlatform = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"

	KeywordInauthenticAccounts = "KEYWORD_INAUTHENTIC_ACCOUNTS"

	ContentText  = "CONTENT_TYPE_TEXT"
	ContentOther = "CONTENT_TYPE_OTHER"

	SourceVoluntary         = "SOURCE_VOLUNTARY"
	SourceOtherNotification = "SOURCE_TYPE_OTHER_NOTIFICATION"

	DetectionYes = "Yes"
	DetectionNo  = "No"

	AutomatedFully     = "AUTOMATED_DECISION_FULLY"
	AutomatedPartially = "AUTOMATED_DECISION_PARTIALLY"
	AutomatedNot       = "AUTOMATED_DECISION_NOT_AUTOMATED"

	maxFacts       = 5000
	maxGround      = 500
	maxExplanation = 2000
)

// EU is the territorial scope the API asks for a decision that applies in
// the whole European Union: its 27 members.
var EU = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

// eea is what territorial_scope may name: the EU and the other members
// of the European Economic Area.
var eea = append([]string{"IS", "LI", "NO"}, EU...)

// ValidScope refuses a territorial scope the API would: a code that is
// not an EU or EEA country.
func ValidScope(codes []string) error {
	for i, c := range codes {
		if !slices.Contains(eea, c) {
			return moderation.Invalid(fmt.Sprintf("territorial_scope[%d]", i), fmt.Sprintf("%q is not an EU or EEA country code", c))
		}
	}
	return nil
}

// measure is what an action restricts, in the API's three kinds of
// restriction, and which end date goes with it. Only restrictions are
// statements of reasons: a warning restricts nothing, and a restore lifts
// a restriction, so neither has a row and neither is exported.
type measure struct {
	provision, account string
	end                func(s *Statement, date string)
}

var measures = map[moderation.Action]measure{
	// A limit refuses some capabilities (broadcasting, adding friends) and
	// leaves the account: a partial suspension of the service.
	moderation.ActionLimit: {provision: ProvisionPartialSuspension,
		end: func(s *Statement, d string) { s.EndDateServiceRestriction = d }},
	moderation.ActionSuspend: {account: AccountSuspended,
		end: func(s *Statement, d string) { s.EndDateAccountRestriction = d }},
	// A closure has no end: the account is frozen, then eligible for purge.
	moderation.ActionClose: {account: AccountTerminated},
}

// ruleInfo is how one rule is reported: the API's category (and keywords),
// what kind of content it judged, and where the information came from.
type ruleInfo struct {
	category     string
	keywords     []string
	contentOther string // empty: the content is text (broadcasts)
	notified     bool   // the rule weighs complaints by followers
}

// rules is the one table of how each rule is reported. Spam of the kinds
// these rules catch is a breach of the platform's terms, not illegal, so
// every statement's ground is DECISION_GROUND_INCOMPATIBLE_CONTENT:
//   - bulk friend requests, rings sharing targets and campaigns of many
//     accounts are inauthentic accounts at work: scams and fraud;
//   - advertising, a broadcast quota and the complaint rate are about
//     what the service is for: scope of the platform service.
//
// Complaints by followers are notices, but not Article 16 notices of
// illegal content nor a trusted flagger's, so rules that weigh them say
// SOURCE_TYPE_OTHER_NOTIFICATION; the rest are the platform's own
// initiative, SOURCE_VOLUNTARY. A rule not in the table (a reviewer's own
// reason code) is reported as defaultRule.
var rules = map[string]ruleInfo{
	"bulk_add":             {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}, contentOther: "Friend requests"},
	"bulk_add_day":         {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}, contentOther: "Friend requests"},
	"bulk_add_week":        {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}, contentOther: "Friend requests"},
	"bulk_add_month":       {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}, contentOther: "Friend requests"},
	"shared_targets":       {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}, contentOther: "Friend requests"},
	"campaign":             {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}},
	"campaign_mass":        {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}},
	"destination_campaign": {category: CategoryScamsAndFraud, keywords: []string{KeywordInauthenticAccounts}},
	"complaint_fraud":      {category: CategoryScamsAndFraud, notified: true},
	"ad_content":           {category: CategoryScopeOfPlatform, notified: true},
	"ad_unfollows":         {category: CategoryScopeOfPlatform},
	"broadcast_quota":      {category: CategoryScopeOfPlatform},
	"complaint_rate":       {category: CategoryScopeOfPlatform, notified: true},
}

var defaultRule = ruleInfo{category: CategoryScopeOfPlatform, contentOther: "Account activity"}

// automated maps the statement's automated_decision (fully, partially,
// not) to the API's values.
var automated = map[string]string{"fully": AutomatedFully, "partially": AutomatedPartially, "not": AutomatedNot}

// Options shape the statements.
type Options struct {
	// TerritorialScope lists the EU/EEA countries (ISO 3166-1 alpha-2)
	// where decisions apply; nil: EU.
	TerritorialScope []string
	// TermsURL, when set, is given as decision_ground_reference_url.
	TermsURL string
}

// Rule is the rule a decision enforces: its first (most severe) reason.
func Rule(d *moderation.Decision) string {
	if len(d.Reasons) == 0 {
		return ""
	}
	return d.Reasons[0].Code
}

// StatementOf converts a decision into its statement of reasons; ok is
// false for a decision that restricts nothing (warn, restore), which has
// none. Free text is redacted (see Redact) so the statement carries no
// personal data; the decision id is the PUID: it names the decision in
// this service's records, derived by hash from the event that caused it,
// and says nothing about whose account it was.
func StatementOf(d *moderation.Decision, opts Options) (Statement, bool) {
	m, ok := measures[d.Action]
	if !ok {
		return Statement{}, false
	}
	info, ok := rules[Rule(d)]
	if !ok {
		info = defaultRule
	}
	at := d.At.UTC().Format(time.DateOnly)
	st := d.Statement
	s := Statement{
		DecisionProvision:              m.provision,
		DecisionAccount:                m.account,
		DecisionGround:                 GroundIncompatible,
		DecisionGroundReferenceURL:     opts.TermsURL,
		IncompatibleContentGround:      clip(Redact(st.Ground, d.Account), maxGround),
		IncompatibleContentExplanation: clip(Redact(st.Explanation, d.Account), maxExplanation),
		Category:                       info.category,
		CategorySpecification:          info.keywords,
		ContentType:                    []string{ContentText},
		TerritorialScope:               opts.TerritorialScope,
		ContentDate:                    at,
		ApplicationDate:                at,
		DecisionFacts:                  clip(Redact(st.Facts, d.Account), maxFacts),
		SourceType:                     SourceVoluntary,
		AutomatedDetection:             DetectionNo,
		AutomatedDecision:              automated[st.AutomatedDecision],
		PUID:                           d.DecisionID,
	}
	if info.contentOther != "" {
		s.ContentType, s.ContentTypeOther = []string{ContentOther}, info.contentOther
	}
	if s.TerritorialScope == nil {
		s.TerritorialScope = EU
	}
	if info.notified {
		s.SourceType = SourceOtherNotification
	}
	if st.AutomatedDetection {
		s.AutomatedDetection = DetectionYes
	}
	if s.AutomatedDecision == "" {
		// A decision recorded without saying: one a person took is
		// recorded "not", so none is the policy's, which is fully.
		s.AutomatedDecision = AutomatedFully
		if d.Actor != "" {
			s.AutomatedDecision = AutomatedNot
		}
	}
	if d.Until != nil && m.end != nil {
		m.end(&s, d.Until.UTC().Format(time.DateOnly))
	}
	return s, true
}

// clip cuts s to at most n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
