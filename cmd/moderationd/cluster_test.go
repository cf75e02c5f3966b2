package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/natsbus"
)

// launch starts moderationd without waiting for it to listen: a cluster
// member listens only once enough members are up to elect a leader, so
// members must be started side by side. listening is closed when it logs
// its addresses; p.exited receives its end.
func launch(t *testing.T, dataDir string, extra ...string) (p *process, listening <-chan struct{}) {
	t.Helper()
	args := append([]string{"--data-dir", dataDir, "--nats-listen", "127.0.0.1:-1", "--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"}, extra...)
	p = &process{dataDir: dataDir, cmd: exec.Command(moderationd(t), args...), exited: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start moderationd: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, NATS, GRPC string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "moderation service listening" {
				p.mu.Lock()
				p.natsURL, p.grpc = rec.NATS, rec.GRPC
				p.mu.Unlock()
				close(ready)
			}
		}
		// Read to the end whatever stopped the scanner: a process whose
		// stderr is no longer read blocks on its next log line.
		_, _ = io.Copy(io.Discard, stderr)
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("moderationd %s log:\n%s", dataDir, p.logText())
		}
	})
	return p, ready
}

// copyDir copies the files of one directory to another, as an operator
// copies <data-dir>/nats from the first machine to the next.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// startCluster runs three moderationd processes as a cluster, as the
// README has an operator set one up: a token key made beforehand, the
// first member started, its <data-dir>/nats copied to the others, then
// they start. It returns once all three listen.
func startCluster(t *testing.T, extra ...string) (ps []*process, dirs []string) {
	t.Helper()
	// Route ports are chosen before any member starts: each names them all.
	var routes []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, ln.Addr().String())
		ln.Close()
	}
	dirs = []string{t.TempDir(), t.TempDir(), t.TempDir()}
	if _, _, err := auth.LoadOrCreateKey(auth.DefaultKeyFile(dirs[0])); err != nil { // openssl genpkey in the README
		t.Fatal(err)
	}
	member := func(i int) []string {
		return append([]string{"--nats-cluster-listen", routes[i], "--nats-routes", strings.Join(routes, ","), "--nats-server-name", fmt.Sprintf("m%d", i+1)}, extra...)
	}
	var listening []<-chan struct{}
	p, l := launch(t, dirs[0], member(0)...)
	ps, listening = append(ps, p), append(listening, l)
	// The first member creates the cluster's trust directory at once, and
	// waits for the others before it listens.
	poll(t, "the first member's route certificate", 30*time.Second, func() bool {
		_, err := os.Stat(natsbus.RouteCertPath(dirs[0]))
		return err == nil
	})
	for i := 1; i < 3; i++ {
		copyDir(t, natsbus.TrustDir(dirs[0]), natsbus.TrustDir(dirs[i]))
		copyDir(t, filepath.Dir(auth.DefaultKeyFile(dirs[0])), filepath.Dir(auth.DefaultKeyFile(dirs[i])))
		p, l := launch(t, dirs[i], member(i)...)
		ps, listening = append(ps, p), append(listening, l)
	}
	for i, l := range listening {
		select {
		case <-l:
		case err := <-ps[i].exited:
			t.Fatalf("m%d exited before listening: %v", i+1, err)
		case <-time.After(2 * time.Minute):
			t.Fatalf("m%d not listening after 2 minutes", i+1)
		}
	}
	return ps, dirs
}

// TestClusterOfThree: three members set up as the README says all pass
// Setup (three replicas by default) and listen; the streams have three
// replicas; an event published with one member's copy of the credentials
// is stored; a token minted from another's copy of the key is accepted.
// (TestClusterSharesTheEvents follows events through the pipeline.)
func TestClusterOfThree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary and runs three")
	}
	ps, dirs := startCluster(t)
	ready := -1
	poll(t, "a member ready", time.Minute, func() bool {
		for i, p := range ps {
			if resp, err := http.Get("http://" + listeningHTTP(t, p) + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ready = i
					return true
				}
			}
		}
		return false
	})
	other, third := (ready+1)%3, (ready+2)%3
	t.Logf("m%d ready", ready+1)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, svcJS := connect(t, ps[ready].natsURL, natsbus.As(dirs[ready], natsbus.RoleService))
	events, err := svcJS.Stream(ctx, natsbus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := events.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Errorf("events stream: %d replicas, cluster %+v; want 3 replicas by default on a cluster member", info.Config.Replicas, info.Cluster)
	}

	_, pubJS := connect(t, ps[ready].natsURL, natsbus.As(dirs[other], natsbus.RolePublisher))
	ev := fmt.Sprintf(`{"id":"e-1","kind":"friend_add","account":"acct_1","at":%q,"account_info":{"type":"personal","created_at":%q},"friend_add":{"target":"user_9","source":"search"}}`,
		time.Now().UTC().Format(time.RFC3339), time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	if _, err := pubJS.Publish(ctx, "mod.events.friend_add.acct_1", []byte(ev), jetstream.WithMsgID("e-1")); err != nil {
		t.Fatalf("publish with m%d's credentials: %v", other+1, err)
	}
	if info, err = events.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("events stored: %d, want the one published", info.State.Msgs)
	}

	token := ps[third].token(t, auth.Identity{Subject: "svc-test", Role: auth.RoleService})
	conn, err := grpc.NewClient(ps[ready].grpc, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(auth.Bearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := moderationv1.NewModerationServiceClient(conn).Check(ctx, &moderationv1.CheckRequest{Account: "acct_1"}); err != nil {
		t.Errorf("Check on m%d with a token from m%d's copy of the key: %v", ready+1, third+1, err)
	}
}
