package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/itiny/itiny/internal/testpki"
)

// TestK3sAPI runs the recipes' kubectl and curl commands as written,
// through the agent, with a real kubectl and curl against an API server
// on 127.0.0.1 that serves the objects of testdata/k3s over TLS to the
// bearer of a token, as k3s serves a pod's service account. kubectl finds
// it by the kubeconfig in $HOME, which the recipes pass on; curl's
// recipe has only the service account's directory and the server's
// address made the test's. Each snapshot is what kubectl or curl
// printed, and that is the recorded output the stand-ins of
// TestK3sRecipes print: the stand-ins print what the tools print (this
// test found one that did not: a custom resource's fields out of
// kubectl's order).
func TestK3sAPI(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is not installed (make deps installs kubernetes-client): ", err)
	}
	api := newFakeAPI(t)
	pki := testpki.New(t)
	cert, err := tls.LoadX509KeyPair(pki.ServerCert, pki.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: k3s
  cluster:
    server: ` + srv.URL + `
    certificate-authority: ` + pki.CA + `
users:
- name: itiny
  user:
    token: ` + fakeAPIToken + `
contexts:
- name: itiny
  context:
    cluster: k3s
    user: itiny
current-context: itiny
`
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".kube", "config"), []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	// The service account's directory, for curl's recipe.
	account := filepath.Join(dir, "serviceaccount")
	if err := os.Mkdir(account, 0o700); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(account, "ca.crt"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(account, "token"), []byte(fakeAPIToken), 0o600); err != nil {
		t.Fatal(err)
	}
	// The curl recipe with the service account's directory and the
	// server's address made the test's.
	conf := recipeConfig(t, dir, map[string]string{
		"/var/run/secrets/kubernetes.io/serviceaccount": account,
		"https://kubernetes.default.svc":                srv.URL,
	}, "k8s_deployments", "k8s_crds", "k8s_appliance_crs", "k8s_nodes")
	data := filepath.Join(dir, "data")
	// kubectl where the recipes' PATH finds it, its kubeconfig in HOME.
	p := startRecipes(t, data, conf, "PATH="+filepath.Dir(kubectl)+":/usr/bin:/bin", "HOME="+home)
	defer p.terminate()
	want := map[string]string{
		"k8s_deployments":   "deployments.json",
		"k8s_crds":          "crds.json",
		"k8s_appliance_crs": "appliance-crs.json",
		"k8s_nodes":         "nodes.json",
	}
	got := waitSnapshots(t, p, data, len(want))
	// kubectl before 1.21 (Debian 12's is 1.20) also prints a list's empty
	// selfLink, which later ones, and so the recorded outputs, do not.
	selfLink := regexp.MustCompile(`"resourceVersion": "",\n\s*"selfLink": ""`)
	checkRecorded(t, got, want, func(s string) string { return selfLink.ReplaceAllString(s, `"resourceVersion": ""`) })
	if api.unauthorized.Load() != 0 {
		t.Errorf("%d requests without the token", api.unauthorized.Load())
	}
	// Stopped as a service manager stops it, the agent leaves no command
	// of a snapshot running: each ran in a process group of its own.
	p.terminate()
	if left := processesWith(t, "HOME="+home); len(left) > 0 {
		t.Errorf("snapshot commands still running after the agent stopped: %v", left)
	}
}

// processesWith returns the command lines of the processes whose
// environment holds kv.
func processesWith(t *testing.T, kv string) []string {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !slices.Contains(strings.Split(string(env), "\x00"), kv) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		out = append(out, strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// fakeAPIToken is the service account's token the fake API server takes.
const fakeAPIToken = "itiny-test-token"

// A fakeAPI answers what kubectl and curl ask of a Kubernetes API server
// for the recipes: legacy discovery (/api, /apis, each group version's
// resources) and the lists of deployments, custom resource definitions
// and the appliance's volumes, their objects those of testdata/k3s, and
// the nodes as testdata/k3s/nodes.json has the server's answer.
type fakeAPI struct {
	paths        map[string][]byte // by URL path: the body
	unauthorized atomic.Int64
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	items := func(file string) []any {
		b, err := os.ReadFile(filepath.Join("../../testdata/k3s", file))
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ Items []any }
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return l.Items
	}
	list := func(gv, kind string, items []any) any {
		return map[string]any{"apiVersion": gv, "kind": kind + "List", "metadata": map[string]any{"resourceVersion": "4242"}, "items": items}
	}
	resources := func(gv string, rs ...map[string]any) any {
		for _, r := range rs {
			r["verbs"] = []string{"get", "list", "watch"}
		}
		return map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": rs}
	}
	var groups []any
	for _, g := range []string{"apps", "apiextensions.k8s.io", "appliance.example.com"} {
		v := map[string]any{"groupVersion": g + "/v1", "version": "v1"}
		groups = append(groups, map[string]any{"name": g, "versions": []any{v}, "preferredVersion": v})
	}
	nodes, err := os.ReadFile("../../testdata/k3s/nodes.json")
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAPI{paths: map[string][]byte{"/api/v1/nodes": nodes}}
	for path, v := range map[string]any{
		"/api": map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]any{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}}},
		"/api/v1": resources("v1", map[string]any{"name": "nodes", "singularName": "node", "namespaced": false, "kind": "Node", "shortNames": []string{"no"}}),
		"/apis":   map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups},
		"/apis/apps/v1": resources("apps/v1",
			map[string]any{"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment", "shortNames": []string{"deploy"}}),
		"/apis/apiextensions.k8s.io/v1": resources("apiextensions.k8s.io/v1",
			map[string]any{"name": "customresourcedefinitions", "singularName": "customresourcedefinition", "namespaced": false, "kind": "CustomResourceDefinition", "shortNames": []string{"crd", "crds"}}),
		"/apis/appliance.example.com/v1": resources("appliance.example.com/v1",
			map[string]any{"name": "volumes", "singularName": "volume", "namespaced": true, "kind": "Volume"}),
		"/apis/apps/v1/deployments":                               list("apps/v1", "Deployment", items("deployments.json")),
		"/apis/apiextensions.k8s.io/v1/customresourcedefinitions": list("apiextensions.k8s.io/v1", "CustomResourceDefinition", items("crds.json")),
		"/apis/appliance.example.com/v1/volumes":                  list("appliance.example.com/v1", "Volume", items("appliance-crs.json")),
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		a.paths[path] = b
	}
	return a
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+fakeAPIToken {
		a.unauthorized.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
		return
	}
	b, ok := a.paths[r.URL.Path]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		b = []byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
	}
	w.Write(b)
}
