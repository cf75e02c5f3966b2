package auth_test

import (
	"context"
	"strings"
	"testing"

	"moderation/internal/auth"
)

func TestRoleValid(t *testing.T) {
	for _, tc := range []struct {
		role auth.Role
		want bool
	}{
		{auth.RoleService, true},
		{auth.RoleReviewer, true},
		{auth.RoleAdmin, true},
		{auth.RoleOwner, true},
		{"", false},
		{"root", false},
		{"Admin", false},
	} {
		if got := tc.role.Valid(); got != tc.want {
			t.Errorf("Role(%q).Valid() = %v, want %v", tc.role, got, tc.want)
		}
	}
}

func TestIdentityValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id      auth.Identity
		wantErr string // empty: valid
	}{
		{name: "service", id: auth.Identity{Subject: "svc-broadcast", Role: auth.RoleService}},
		{name: "reviewer email", id: auth.Identity{Subject: "alice@example.com", Role: auth.RoleReviewer}},
		{name: "admin with colon", id: auth.Identity{Subject: "ops:bob_1", Role: auth.RoleAdmin}},
		{name: "owner", id: auth.Identity{Subject: "carol", Role: auth.RoleOwner, Account: "acct_123-x"}},
		{name: "subject 128", id: auth.Identity{Subject: strings.Repeat("a", 128), Role: auth.RoleAdmin}},
		{name: "empty subject", id: auth.Identity{Role: auth.RoleAdmin}, wantErr: "subject"},
		{name: "subject 129", id: auth.Identity{Subject: strings.Repeat("a", 129), Role: auth.RoleAdmin}, wantErr: "subject"},
		{name: "subject with space", id: auth.Identity{Subject: "a b", Role: auth.RoleAdmin}, wantErr: "subject"},
		{name: "subject with slash", id: auth.Identity{Subject: "a/b", Role: auth.RoleAdmin}, wantErr: "subject"},
		{name: "no role", id: auth.Identity{Subject: "a"}, wantErr: "role"},
		{name: "unknown role", id: auth.Identity{Subject: "a", Role: "root"}, wantErr: "role"},
		{name: "owner without account", id: auth.Identity{Subject: "a", Role: auth.RoleOwner}, wantErr: "account required"},
		{name: "owner bad account", id: auth.Identity{Subject: "a", Role: auth.RoleOwner, Account: "acct.1"}, wantErr: "account"},
		{name: "owner account 65", id: auth.Identity{Subject: "a", Role: auth.RoleOwner, Account: strings.Repeat("x", 65)}, wantErr: "account"},
		{name: "admin with account", id: auth.Identity{Subject: "a", Role: auth.RoleAdmin, Account: "acct_1"}, wantErr: "only allowed for role owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.id.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("got no error, want one containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("got error %q, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestContext(t *testing.T) {
	if _, ok := auth.FromContext(context.Background()); ok {
		t.Fatal("got an identity from a bare context, want none")
	}
	want := auth.Identity{Subject: "carol", Role: auth.RoleOwner, Account: "acct_1"}
	got, ok := auth.FromContext(auth.NewContext(context.Background(), want))
	if !ok || got != want {
		t.Fatalf("got %+v, %v, want %+v, true", got, ok, want)
	}
}
