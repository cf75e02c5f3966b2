package service

import (
	"context"
	"maps"

	"moderation/internal/grpcapi"
)

// policyInfo reports the policy in force and the versions run, for the
// console (ConsoleService.GetPolicy).
type policyInfo struct{ svc *Service }

var _ grpcapi.Policies = policyInfo{}

// PolicyInfo is the live policy and the history: every version recorded in
// the history bucket (by any instance, before any restart) and those this
// instance loaded, should a write to the bucket have failed. Loaded marks
// the versions this instance holds, the ones a re-evaluation can use.
func (p policyInfo) PolicyInfo(ctx context.Context) (grpcapi.PolicyInfo, error) {
	live := p.svc.Pipeline.Policy()
	k := &p.svc.known
	var stored []grpcapi.PolicyVersion
	if k.stored != nil {
		var err error
		if stored, err = k.stored.list(ctx); err != nil {
			return grpcapi.PolicyInfo{}, err
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	info := grpcapi.PolicyInfo{Live: live.Version, Shadow: k.current["shadow"], Files: maps.Clone(live.Files)}
	seen := map[string]bool{}
	for _, v := range append(stored, k.history...) { // the bucket's first load wins
		key := historyKey(v.Version)
		if seen[key] {
			continue
		}
		seen[key] = true
		_, v.Loaded = k.byID[v.Version]
		info.Versions = append(info.Versions, v)
	}
	sortHistory(info.Versions)
	return info, nil
}
