package main

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/internal/testpki"
	"github.com/nats-io/nats-server/v2/server"
)

// TestTLS: a server that requires TLS and a client certificate takes a
// migration with the CA and the certificate given as files, and refuses
// one without, with an error that says why.
func TestTLS(t *testing.T) {
	p := testpki.New(t)
	cert, err := tls.LoadX509KeyPair(p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	url := embedded(t, &server.Options{TLS: true, TLSVerify: true, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: p.Pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}})
	data := testdir.TempDir(t)
	writeRing(t, data, "events", 50, 1<<20)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	common := []string{"--scope", "d", "--checkpoint", ck, "--retries", "1"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"CA and client certificate", []string{"--tls-ca", p.CA, "--tls-cert", p.ClientCert, "--tls-key", p.ClientKey}, 0, ""},
		{"unknown CA", []string{"--tls", "--tls-cert", p.ClientCert, "--tls-key", p.ClientKey}, 4, "TLS handshake with nats server 127.0.0.1:"},
		// The server refuses the handshake with an alert, or hangs up
		// after it (TLS 1.3): either way a TLS failure, not retried.
		{"no client certificate", []string{"--tls-ca", p.CA}, 4, "TLS handshake with nats server 127.0.0.1:"},
		{"cert without key", []string{"--tls-ca", p.CA, "--tls-cert", p.ClientCert}, 2, "--tls-cert and --tls-key go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := migrateCmd(t, nil, append(append([]string{"--to", url}, common...), append(tc.args, data)...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.code == 3 && strings.Contains(r.stderr, "cannot reach") {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
}
