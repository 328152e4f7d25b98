//go:build !nosnapshot

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// The snapshot collector starts processes and opens files on every
// Update: it is exempt from the no-allocation rule, so no test here
// counts allocations.

func TestSnapshotOutput(t *testing.T) {
	for _, tc := range []struct {
		in        string
		truncated bool
		want      codec.Value
	}{
		{"default via 10.0.0.1 dev eth0\n", false, codec.String("default via 10.0.0.1 dev eth0\n")},
		{"", false, codec.String("")},
		{"température", false, codec.String("température")},
		{"temp\xc3", true, codec.String("temp")},             // é cut by the bound
		{"temp\xe2\x82", true, codec.String("temp")},         // € cut
		{"temp\xe2\x82\xac", true, codec.String("temp€")},    // whole
		{"temp\xc3", false, codec.Bytes([]byte("temp\xc3"))}, // not cut: binary
		{"\x00\xff\xfe", false, codec.Bytes([]byte("\x00\xff\xfe"))},
	} {
		if got := snapshotOutput([]byte(tc.in), tc.truncated); !got.Equal(tc.want) {
			t.Errorf("%q: got %v %q", tc.in, got.Kind(), got.Str())
		}
	}
}

func TestSnapshotOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		err  string
	}{
		{nil, "set either option command or option file"},
		{map[string]string{"command": "date", "file": "/etc/hostname"}, "set either"},
		{map[string]string{"command": "date", "timeout": "soon"}, "option timeout"},
		{map[string]string{"command": "date", "max_output": "lots"}, "option max_output"},
		{map[string]string{"command": "date", "max_output": "2MiB"}, "option max_output"},
		{map[string]string{"command": "date", "snapshot_every": "-1"}, "option snapshot_every"},
		{map[string]string{"command": "date", "name": " "}, "option name"},
		{map[string]string{"command": "date", "every": "1"}, `unknown option "every"`},
	} {
		_, err := newCollector("snapshot", CollectorConfig{Options: tc.opts})
		wantErr(t, tc.err, err, tc.err)
	}
}

func snapshotRecords(t *testing.T, c Collector) (string, error) {
	t.Helper()
	var e recordingEmitter
	err := c.Update(&e)
	return e.out.String(), err
}

func TestSnapshotCommand(t *testing.T) {
	c := mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{
		"name": "routes", "command": "echo default via 10.0.0.1; echo oops >&2; exit 3", "snapshot_every": "3",
	}})
	out, err := snapshotRecords(t, c)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "snapshot", []byte(out))
	if out, _ = snapshotRecords(t, c); out != "" {
		t.Errorf("unchanged, yet %s", out)
	}
	if out, _ = snapshotRecords(t, c); !strings.Contains(out, `"exit_code":3,"truncated":false,"changed":false`) {
		t.Errorf("no snapshot on the third update: %s", out)
	}

	// Output past max_output is dropped; the command still ends well.
	c = mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{"command": "yes | head -c 100000; echo done", "max_output": "1KiB"}})
	out, err = snapshotRecords(t, c)
	if err != nil || !strings.Contains(out, `"snapshot":"snapshot","output":"y\ny\n`) || !strings.Contains(out, `"exit_code":0,"truncated":true,"changed":true`) || strings.Count(out, `y\n`) != 512 {
		t.Errorf("%v: %.200s", err, out)
	}

	// Binary output is kept as bytes.
	c = mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{"command": `printf '\377\001'`}})
	if out, err = snapshotRecords(t, c); err != nil || !strings.Contains(out, `"output":{"$base64":"/wE="}`) {
		t.Errorf("%v: %s", err, out)
	}
}

func TestSnapshotTimeout(t *testing.T) {
	// The shell, its child and a background grandchild holding the
	// output pipe are all killed at the timeout.
	c := mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{"command": "echo started; sleep 30 & sleep 30", "timeout": "200ms"}})
	start := time.Now()
	out, err := snapshotRecords(t, c)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	wantErr(t, "timeout", err, "timed out after 200ms")
	if !strings.Contains(out, `"output":"started\n","exit_code":-1`) {
		t.Errorf("got %s", out)
	}
}

// TestSnapshotFile snapshots a copy of this machine's /proc/version, then
// a file that changes.
func TestSnapshotFile(t *testing.T) {
	c := mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{"name": "kernel", "file": "testdata/proc/version"}})
	out, err := snapshotRecords(t, c)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "snapshot-file", []byte(out))

	path := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(path, []byte("nameserver 10.0.0.1\n"), 0o644)
	c = mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{"file": path, "max_output": "16"}})
	if out, err = snapshotRecords(t, c); err != nil || !strings.Contains(out, `"output":"nameserver 10.0.","truncated":true,"changed":true}`) {
		t.Errorf("%v: %s", err, out)
	}
	if out, _ = snapshotRecords(t, c); out != "" {
		t.Errorf("unchanged, yet %s", out)
	}
	os.WriteFile(path, []byte("nameserver 10.9.9.9\n"), 0o644)
	if out, _ = snapshotRecords(t, c); !strings.Contains(out, `"output":"nameserver 10.9.","truncated":true,"changed":true}`) {
		t.Errorf("change missed: %s", out)
	}
	os.Remove(path)
	_, err = snapshotRecords(t, c)
	wantErr(t, "missing file", err, path)
}

// TestSnapshotEnv: a command's environment is PATH and LC_ALL fixed, and
// the variables option env names as the agent has them; a name that is
// not one is refused. systemd's NOTIFY_SOCKET, which the agent keeps
// (internal/sdnotify), is not passed, nor can env name it or the
// watchdog's: a command cannot notify in the agent's name.
func TestSnapshotEnv(t *testing.T) {
	t.Setenv("ITINY_TEST_HOST", "10.43.0.1")
	t.Setenv("ITINY_TEST_SECRET", "not passed")
	t.Setenv("NOTIFY_SOCKET", "/run/systemd/notify")
	c := mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{"name": "env",
		"command": "echo host=$ITINY_TEST_HOST secret=$ITINY_TEST_SECRET notify=$NOTIFY_SOCKET path=$PATH", "env": "ITINY_TEST_HOST, ITINY_TEST_UNSET"}})
	out, err := snapshotRecords(t, c)
	if err != nil || !strings.Contains(out, `host=10.43.0.1 secret= notify= path=/usr/sbin:/usr/bin:/sbin:/bin\n`) {
		t.Errorf("%v: %s", err, out)
	}
	t.Setenv("PATH", "/opt/tools:/usr/bin:/bin")
	c = mustCollector(t, "snapshot", CollectorConfig{Options: map[string]string{"command": "echo $PATH", "env": "PATH"}})
	if out, err = snapshotRecords(t, c); err != nil || !strings.Contains(out, `"output":"/opt/tools:/usr/bin:/bin\n"`) {
		t.Errorf("env = PATH: %v: %s", err, out)
	}
	_, err = newSnapshotCollector(CollectorConfig{Options: map[string]string{"command": "true", "env": "A=B"}})
	wantErr(t, "a name with =", err, `option env: "A=B" is not a variable's name`)
	for _, n := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		_, err = newSnapshotCollector(CollectorConfig{Options: map[string]string{"command": "true", "env": "PATH, " + n}})
		wantErr(t, n, err, "option env: "+n+" is the service manager's, for the agent alone")
	}
}

// TestSnapshotFitsStream: a max_output whose record would not fit the
// state stream (a segment; a packed stream's 64 KiB records) is refused
// when the configuration is read, not at every sample (found by the k3s
// recipes' test: a 256 KiB output, 128 KiB segments).
func TestSnapshotFitsStream(t *testing.T) {
	for _, tc := range []struct {
		max  string
		sc   StreamConfig
		want string
	}{
		{"96KiB", StreamConfig{Name: StreamState, Segment: 128 << 10}, ""},
		{"256KiB", StreamConfig{Name: StreamState, Segment: 128 << 10}, "option max_output 256KiB: a snapshot's record would not fit a record of [stream state] (segment 128KiB)"},
		{"96KiB", StreamConfig{Name: StreamState, Segment: 256 << 10, Pack: true}, "would not fit"},
		{"1MiB", StreamConfig{Name: StreamEvents, Segment: 128 << 10}, ""}, // no state stream: nothing to fit
	} {
		_, err := newSnapshotCollector(CollectorConfig{Options: map[string]string{"command": "true", "max_output": tc.max},
			Streams: []StreamConfig{tc.sc}, check: true})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("max_output %s, %+v: %v; want %q", tc.max, tc.sc, err, tc.want)
		}
	}
}
