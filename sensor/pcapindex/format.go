package pcapindex

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// The index file, version 1 (docs/pcap-index.md). All integers are
// little-endian; strings are a length and the bytes.
//
//	magic   "PSIDX\r\n\x1a" (8 bytes)
//	u16     version (1)
//	u16     flags: 1 = partial (some frames were not indexed)
//	u16     Community ID seed
//	u16+    capture path (absolute)
//	i64     capture size in bytes
//	[32]    SHA-256 of the capture's first 64 KiB
//	u64     frames indexed
//	u32+    pcapng sync points (source.File.SyncPoints): varint deltas
//	u32     flow count, then per flow, sorted by Community ID:
//	  u8+     Community ID
//	  i64 i64 first and last packet time (Unix ns)
//	  u32 u64 packets, bytes on the wire
//	  u32+    record offsets: zig-zag varint deltas, in capture order
//	u32     CRC-32C of every byte before it
const (
	magic   = "PSIDX\r\n\x1a"
	version = 1

	flagPartial = 1

	// headBytes of the capture are hashed to recognise it again.
	headBytes = 64 << 10
	// maxIndexBytes refuses to load an index that cannot be one.
	maxIndexBytes = 1 << 32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by every error about the index file's own bytes:
// the caller falls back to scanning the capture.
var ErrCorrupt = errors.New("corrupt packet index")

// ErrStale says the index was made from another file than the capture
// now at its path.
var ErrStale = errors.New("packet index does not match the capture")

// Flow is what an index holds about one flow in one capture file.
type Flow struct {
	CommunityID string
	First, Last int64 // Unix ns
	Packets     uint32
	Bytes       uint64
	offsets     []byte
}

// appendDeltas appends vs as zig-zag varint deltas.
func appendDeltas(b []byte, vs []int64) []byte {
	prev := int64(0)
	for _, v := range vs {
		b = binary.AppendVarint(b, v-prev)
		prev = v
	}
	return b
}

// deltas decodes what appendDeltas wrote.
func deltas(b []byte) ([]int64, error) {
	var out []int64
	prev := int64(0)
	for len(b) > 0 {
		d, n := binary.Varint(b)
		if n <= 0 {
			return nil, errors.New("bad varint")
		}
		prev += d
		out = append(out, prev)
		b = b[n:]
	}
	return out, nil
}

// Offsets decodes the flow's record offsets, in the order they were added
// (capture order, but for fragments, added with their datagram's end).
func (f *Flow) Offsets() ([]int64, error) {
	out, err := deltas(f.offsets)
	if err != nil {
		return nil, fmt.Errorf("%w: bad offset list of flow %s", ErrCorrupt, f.CommunityID)
	}
	if len(out) != int(f.Packets) {
		return nil, fmt.Errorf("%w: flow %s lists %d offsets for %d packets", ErrCorrupt, f.CommunityID, len(out), f.Packets)
	}
	return out, nil
}

// Index is the packet index of one capture file.
type Index struct {
	Capture string
	Size    int64
	Head    [sha256.Size]byte
	Seed    uint16
	Frames  uint64
	Partial bool
	Syncs   []int64 // source.File.SyncPoints of the capture
	Flows   []Flow  // sorted by Community ID
}

// Lookup returns the flow with Community ID cid, or nil.
func (x *Index) Lookup(cid string) *Flow {
	i := sort.Search(len(x.Flows), func(i int) bool { return x.Flows[i].CommunityID >= cid })
	if i < len(x.Flows) && x.Flows[i].CommunityID == cid {
		return &x.Flows[i]
	}
	return nil
}

// Fingerprint reads what identifies a capture file: its size and the
// SHA-256 of its first 64 KiB.
func Fingerprint(path string) (size int64, head [sha256.Size]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, head, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, head, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, headBytes)); err != nil {
		return 0, head, err
	}
	copy(head[:], h.Sum(nil))
	return st.Size(), head, nil
}

// Check says whether the capture at x.Capture is still the file indexed.
func (x *Index) Check() error {
	size, head, err := Fingerprint(x.Capture)
	if err != nil {
		return err
	}
	if size != x.Size || head != x.Head {
		return fmt.Errorf("%w: %s (now %d bytes, indexed %d)", ErrStale, x.Capture, size, x.Size)
	}
	return nil
}

// Marshal encodes the index.
func (x *Index) Marshal() []byte {
	var b []byte
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint16(b, version)
	var flags uint16
	if x.Partial {
		flags |= flagPartial
	}
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.LittleEndian.AppendUint16(b, x.Seed)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(x.Capture)))
	b = append(b, x.Capture...)
	b = binary.LittleEndian.AppendUint64(b, uint64(x.Size))
	b = append(b, x.Head[:]...)
	b = binary.LittleEndian.AppendUint64(b, x.Frames)
	syncs := appendDeltas(nil, x.Syncs)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(syncs)))
	b = append(b, syncs...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(x.Flows)))
	for _, f := range x.Flows {
		b = append(b, byte(len(f.CommunityID)))
		b = append(b, f.CommunityID...)
		b = binary.LittleEndian.AppendUint64(b, uint64(f.First))
		b = binary.LittleEndian.AppendUint64(b, uint64(f.Last))
		b = binary.LittleEndian.AppendUint32(b, f.Packets)
		b = binary.LittleEndian.AppendUint64(b, f.Bytes)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f.offsets)))
		b = append(b, f.offsets...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// reader takes fields off an index, remembering the first shortfall.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) take(n int) []byte {
	if r.err || n > len(r.b) {
		r.err = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.take(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

// Unmarshal decodes an index, checking its magic, version and checksum.
func Unmarshal(b []byte) (*Index, error) {
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not an index (bad magic or %d bytes)", ErrCorrupt, len(b))
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	r := &reader{b: body[len(magic):]}
	if v := r.u16(); v != version {
		return nil, fmt.Errorf("%w: version %d (this sensor reads version %d)", ErrCorrupt, v, version)
	}
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or damaged)", ErrCorrupt)
	}
	x := &Index{}
	x.Partial = r.u16()&flagPartial != 0
	x.Seed = r.u16()
	x.Capture = string(r.take(int(r.u16())))
	x.Size = int64(r.u64())
	copy(x.Head[:], r.take(sha256.Size))
	x.Frames = r.u64()
	syncs, err := deltas(r.take(int(r.u32())))
	if err != nil {
		return nil, fmt.Errorf("%w: sync points: %v", ErrCorrupt, err)
	}
	x.Syncs = syncs
	n := r.u32()
	if !r.err && uint64(n) > uint64(len(r.b))/29 { // a flow takes 29 bytes at least
		return nil, fmt.Errorf("%w: %d flows cannot fit in %d bytes", ErrCorrupt, n, len(r.b))
	}
	x.Flows = make([]Flow, 0, n)
	for i := uint32(0); i < n && !r.err; i++ {
		var f Flow
		f.CommunityID = string(r.take(int(r.u8())))
		f.First, f.Last = int64(r.u64()), int64(r.u64())
		f.Packets, f.Bytes = r.u32(), r.u64()
		f.offsets = r.take(int(r.u32()))
		if len(x.Flows) > 0 && x.Flows[len(x.Flows)-1].CommunityID >= f.CommunityID {
			return nil, fmt.Errorf("%w: flows out of order at %d", ErrCorrupt, i)
		}
		x.Flows = append(x.Flows, f)
	}
	if r.err || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: lengths do not add up", ErrCorrupt)
	}
	return x, nil
}

// Load reads an index file.
func Load(path string) (*Index, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxIndexBytes {
		return nil, fmt.Errorf("%s: %w: %d bytes", path, ErrCorrupt, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	x, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// Write writes the index to path, readable by its owner only, through a
// temporary file so that a reader never sees half of it.
func (x *Index) Write(path string) error {
	return WriteFile(path, x.Marshal())
}

// WriteFile writes an index marshalled before (Marshal) to path, as Write
// does: whoever keeps a disk budget knows its size before it is on disk.
func WriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".psidx-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data) // CreateTemp makes it 0600
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Suffix ends every index file's name.
const Suffix = ".psidx"

// PathFor is where the index of capture goes in dir: the capture's base
// name and 8 hex digits of its absolute path's SHA-256 (so two captures of
// the same name in different folders do not share one). An empty dir puts
// it beside the capture, as CAPTURE.psidx.
func PathFor(dir, capture string) string {
	abs, err := filepath.Abs(capture)
	if err != nil {
		abs = capture
	}
	if dir == "" {
		return abs + Suffix
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, fmt.Sprintf("%s.%x%s", filepath.Base(abs), sum[:4], Suffix))
}
