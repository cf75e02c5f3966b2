package service

import (
	"maps"

	"moderation/internal/grpcapi"
)

// policyInfo reports the policy in force and the versions run, for the
// console (ConsoleService.GetPolicy).
type policyInfo struct{ svc *Service }

var _ grpcapi.Policies = policyInfo{}

func (p policyInfo) PolicyInfo() grpcapi.PolicyInfo {
	live := p.svc.Pipeline.Policy()
	k := &p.svc.known
	k.mu.Lock()
	defer k.mu.Unlock()
	info := grpcapi.PolicyInfo{Live: live.Version, Shadow: k.current["shadow"], Files: maps.Clone(live.Files)}
	info.Versions = append(info.Versions, k.history...)
	return info
}
