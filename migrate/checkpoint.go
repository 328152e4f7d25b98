package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/atomicfile"
	"github.com/itiny/itiny/internal/regular"
)

// A Checkpoint records how far a migration got: for each stream, the key of
// the last message of the last window the store acknowledged in full, and
// the store's position of it. It is a small JSON file, replaced atomically
// (written beside, synced, renamed, the directory synced), so that a crash
// leaves either the old checkpoint or the new one, never a torn one.
type Checkpoint struct {
	Version int                          `json:"version"`
	Scope   string                       `json:"scope"`
	Sink    string                       `json:"sink"`
	Streams map[string]*StreamCheckpoint `json:"streams"`
}

// A StreamCheckpoint is one stream's progress.
type StreamCheckpoint struct {
	Ring    string     `json:"ring"`    // the ring's identity: another ring starts over
	Dest    string     `json:"dest"`    // the destination's identity, from Sink.Prepare
	Done    uint64     `json:"done"`    // Message.Key of the last message acknowledged
	Pos     uint64     `json:"pos"`     // the store's position of the last acknowledged message
	Acked   uint64     `json:"acked"`   // messages acknowledged, over all runs
	Updated codec.Time `json:"updated"` // written in any year (codec.AppendWall)
}

const checkpointVersion = 1

// maxCheckpoint bounds the checkpoint file read: a few hundred bytes a
// stream.
const maxCheckpoint = 16 << 20

// LoadCheckpoint reads the checkpoint at path; a missing file is an empty
// checkpoint. A file that does not parse is an error, not a fresh start:
// starting over would be correct (the tail scan finds what is stored) but
// slow, and the user should know.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := regular.ReadFile(path, maxCheckpoint)
	if errors.Is(err, fs.ErrNotExist) {
		return &Checkpoint{Version: checkpointVersion, Streams: map[string]*StreamCheckpoint{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %v (remove it to start over: what is stored is found again)", path, err)
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint %s: version %d, want %d", path, c.Version, checkpointVersion)
	}
	if c.Streams == nil {
		c.Streams = map[string]*StreamCheckpoint{}
	}
	return &c, nil
}

// Save replaces the checkpoint at path atomically.
func (c *Checkpoint) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "\t")
	if err != nil {
		return err
	}
	o := atomicfile.Options{Perm: 0o600, Sync: true}
	if err := atomicfile.Replace(path, o, atomicfile.Bytes(append(b, '\n'))); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// clone copies c deeply, to be saved by another goroutine while c changes.
func (c *Checkpoint) clone() *Checkpoint {
	d := *c
	d.Streams = make(map[string]*StreamCheckpoint, len(c.Streams))
	for k, v := range c.Streams {
		s := *v
		d.Streams[k] = &s
	}
	return &d
}
