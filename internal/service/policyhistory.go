package service

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/grpcapi"
	"moderation/internal/judge"
	"moderation/internal/natsbus"
)

// PolicyHistoryBucket keeps every policy any instance has loaded, live or
// shadow, by content hash, with when and as what it was first loaded: the
// policy page's history, which a restart or another instance does not lose
// (an instance's own memory holds only what it loaded since it started).
const PolicyHistoryBucket = "POLICY_HISTORY"

// policyHistory is the POLICY_HISTORY bucket.
type policyHistory struct{ kv jetstream.KeyValue }

// historyRecord is one policy's entry: the first load wins.
type historyRecord struct {
	Version  string    `json:"version"`
	Role     string    `json:"role"`
	LoadedAt time.Time `json:"loaded_at"`
}

// openPolicyHistory declares the bucket. A version is a few hundred bytes
// and policies change by hand, so it is kept whole, without a bound.
func openPolicyHistory(ctx context.Context, js jetstream.JetStream, replicas int) (*policyHistory, error) {
	var kv jetstream.KeyValue
	// Instances of a cluster starting together race to create it, and the
	// losers may get no answer: WhenAvailable asks again.
	err := natsbus.WhenAvailable(ctx, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      PolicyHistoryBucket,
			Description: "every policy loaded, live or shadow, by content hash: when and as what it was first loaded",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("declare bucket %s: %w", PolicyHistoryBucket, err)
	}
	return &policyHistory{kv: kv}, nil
}

// historyKey is a version's key: its content hash (the version is
// name@hash, and '@' is not allowed in a key), so the same files loaded
// from a directory and from a bundle are one entry.
func historyKey(version string) string {
	_, hash, ok := strings.Cut(version, "@")
	if !ok || hash == "" {
		hash = version
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, hash)
}

// record stores pol's first load; one already stored (by this instance
// before a restart, or by another) is kept as it is.
func (h *policyHistory) record(ctx context.Context, role string, pol *judge.Policy, at time.Time) error {
	b, err := json.Marshal(historyRecord{Version: pol.Version, Role: role, LoadedAt: at.UTC()})
	if err != nil {
		return fmt.Errorf("record policy %s: %w", pol.Version, err)
	}
	if _, err := h.kv.Create(ctx, historyKey(pol.Version), b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("record policy %s: %w", pol.Version, err)
	}
	return nil
}

// list is every policy recorded, in no particular order: PolicyInfo, its
// one caller, sorts them with this instance's own.
func (h *policyHistory) list(ctx context.Context) ([]grpcapi.PolicyVersion, error) {
	keys, err := h.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list policy history: %w", err)
	}
	var out []grpcapi.PolicyVersion
	for key := range keys.Keys() {
		e, err := h.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read policy history %s: %w", key, err)
		}
		var r historyRecord
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, fmt.Errorf("read policy history %s: %w", key, err)
		}
		out = append(out, grpcapi.PolicyVersion{Version: r.Version, Role: r.Role, LoadedAt: r.LoadedAt})
	}
	return out, nil
}

// sortHistory orders versions by first load, then by name.
func sortHistory(vs []grpcapi.PolicyVersion) {
	slices.SortFunc(vs, func(a, b grpcapi.PolicyVersion) int {
		return cmp.Or(a.LoadedAt.Compare(b.LoadedAt), strings.Compare(a.Version, b.Version))
	})
}
