package adtext

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"
	"sync"
)

// The hashed feature space. Changing any of these, the hash, or what hashes
// emits changes what a saved model means: bump modelVersion with it.
const (
	hashBits     = 18
	hashBuckets  = 1 << hashBits
	hashMask     = hashBuckets - 1
	modelVersion = 3 // 3 added the flags byte; see Save
	modelMagic   = "ADTEXTM\x00"
)

// handInputs are the hand features the model reads besides the n-grams.
const handInputs = 8

// Model is a logistic regression over hashed character n-grams, Latin
// words and the hand Features, with Platt scaling on top so that its score
// reads as a probability on data like its held-out split. It is read-only
// once built, so one Model may score from many goroutines at once.
type Model struct {
	weights []float32 // hashBuckets
	hand    [handInputs]float32
	bias    float32
	// The Platt scaling of the linear score z: p = sigmoid(scale*z + shift).
	// A model trained without a held-out split has 1 and 0.
	scale, shift float32
	// binary counts each feature once per text however often it occurs
	// (TrainOptions.Binary).
	binary bool
}

// Model flags, one byte in the file from version 3.
const flagBinary = 1

func newModel() *Model { return &Model{weights: make([]float32, hashBuckets), scale: 1} }

// modelText is the text the model reads, folded into buf: the same for
// training and scoring.
func modelText(buf []byte, text string) []byte { return normalize(buf, text) }

// ModelText is the text the model reads for text, as modctl score shows it.
func ModelText(text string) string { return string(modelText(nil, text)) }

// Score is the probability, 0 to 1, that text is an advertisement.
func (m *Model) Score(text string) float64 {
	p, _ := m.Analyze(text)
	return p
}

// Analyze returns the score and the features of text in one pass over it.
// Texts up to about 680 Chinese characters are scored without allocating.
func (m *Model) Analyze(text string) (float64, Features) {
	var buf [normBuf]byte
	s := modelText(buf[:0], text)
	f := scan(s)
	return m.calibrated(m.linear(s, f)), f
}

// linear is the uncalibrated score z of normalized text s with features f.
func (m *Model) linear(s []byte, f Features) float64 {
	var sum float64
	n := 0
	if m.binary {
		sum, n = m.sumDistinct(s)
	} else {
		hashes(s, func(i uint32) {
			sum += float64(m.weights[i])
			n++
		})
	}
	x := handVector(f)
	z := float64(m.bias)
	if n > 0 {
		z += sum / math.Sqrt(float64(n))
	}
	for j, v := range x {
		z += float64(m.hand[j]) * float64(v)
	}
	return z
}

// sumDistinct is the sum of the weights of s's distinct features and
// their number, for a binary model. It is apart from linear so that the
// counting models' path keeps its small stack frame.
func (m *Model) sumDistinct(s []byte) (sum float64, n int) {
	var buf [1024]uint32
	idx := distinct(s, buf[:0])
	for _, i := range idx {
		sum += float64(m.weights[i])
	}
	return sum, len(idx)
}

// WithThreshold returns m with its scores moved so that 0.5 falls where
// m scores t: a text scores at least 0.5 exactly where m scores at least
// t (up to float32 rounding of the shift). A threshold chosen for a model,
// by cross-validation say, so travels with it to wherever 0.5 is read as
// the line, the policy's levels included. The copy shares m's weights.
func (m *Model) WithThreshold(t float64) *Model {
	c := *m
	c.shift -= float32(math.Log(t / (1 - t)))
	return &c
}

func (m *Model) calibrated(z float64) float64 {
	return sigmoid(float64(m.scale)*z + float64(m.shift))
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// handVector turns feature counts into model inputs. log1p keeps the tenth
// link from weighing ten times the first.
func handVector(f Features) [handInputs]float32 {
	c := [handInputs]int{f.Links, f.ShortLinks, f.Phones, f.Handles, f.Prices, f.Promos, f.Calls, f.Kinds()}
	var x [handInputs]float32
	for i, v := range c {
		x[i] = float32(math.Log1p(float64(v)))
	}
	return x
}

// FNV-1a, 64 bits, fed one code point at a time. It is written out rather
// than taken from hash/fnv so that hashing allocates nothing, and it has no
// seed, so a model trained on one machine scores the same on another.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func mix(h uint64, r rune) uint64 { return (h ^ uint64(r)) * fnvPrime }

func bucket(h uint64) uint32 { return uint32(h^h>>32) & hashMask }

// Namespaces keep a unigram from sharing a bucket on purpose with a word.
const (
	nsGram1 = iota + 1
	nsGram2
	nsGram3
	nsWord
	nsWordPair
)

// hashes calls emit with the bucket of every feature of normalized text s:
// Latin words (letters and digits, lowercased by normalize, digits folded
// to '0': "iphone15" and "iphone16" are one word, 138xxxx a phone shape,
// not a number) and pairs of consecutive words ("buy now", "link in"); and
// character 1-, 2- and 3-grams that hold at least one character other than
// an ASCII letter, digit or space, so Chinese needs no segmenter ("加v领",
// "元包邮"), symbols count ("¥0", "!!"), and English, which words already
// cover, does not drown them in grams of its letters.
func hashes(s []byte, emit func(uint32)) {
	var r1, r2 rune = -1, -1 // the previous two runes
	var p1, p2 bool          // whether they are plain: ASCII letter, digit or space
	var word uint64          // hash of the Latin word being read, 0 when none
	var prevWord uint64      // hash of the previous word, 0 at the start
	for i := 0; i < len(s); {
		r := rune(s[i])
		size := 1
		if r >= 0x80 {
			r, size = decodeRune(s[i:])
		}
		i += size
		if r >= '0' && r <= '9' {
			r = '0'
		}
		letter := r >= 'a' && r <= 'z' || r == '0'
		plain := letter || r == ' '
		if !plain {
			emit(bucket(mix(mix(fnvOffset, nsGram1), r)))
		}
		if r1 >= 0 && !(plain && p1) {
			emit(bucket(mix(mix(mix(fnvOffset, nsGram2), r1), r)))
		}
		if r2 >= 0 && !(plain && p1 && p2) {
			emit(bucket(mix(mix(mix(mix(fnvOffset, nsGram3), r2), r1), r)))
		}
		r2, r1, p2, p1 = r1, r, p1, plain
		if letter {
			if word == 0 {
				word = mix(fnvOffset, nsWord)
			}
			word = mix(word, r)
			continue
		}
		if word != 0 {
			emitWord(word, prevWord, emit)
			prevWord, word = word, 0
		}
	}
	if word != 0 {
		emitWord(word, prevWord, emit)
	}
}

func emitWord(word, prev uint64, emit func(uint32)) {
	emit(bucket(word))
	if prev != 0 {
		emit(bucket((mix(fnvOffset, nsWordPair)^prev)*fnvPrime ^ word))
	}
}

// distinct appends to dst the buckets of normalized text s, each once, in
// ascending order: the features of a binary model, in the order training
// and scoring both sum them.
func distinct(s []byte, dst []uint32) []uint32 {
	hashes(s, func(i uint32) { dst = append(dst, i) })
	slices.Sort(dst)
	return slices.Compact(dst)
}

func decodeRune(s []byte) (rune, int) {
	// A short decoder: normalize passes invalid bytes through unchanged,
	// and whatever this makes of them never reads past s and is the same
	// in training and scoring, which is all hashing needs.
	c := s[0]
	switch {
	case c < 0xE0 && len(s) >= 2:
		return rune(c&0x1F)<<6 | rune(s[1]&0x3F), 2
	case c < 0xF0 && len(s) >= 3:
		return rune(c&0x0F)<<12 | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), 3
	case len(s) >= 4:
		return rune(c&0x07)<<18 | rune(s[1]&0x3F)<<12 | rune(s[2]&0x3F)<<6 | rune(s[3]&0x3F), 4
	}
	return rune(c), 1
}

// The file format, little-endian:
//
//	magic "ADTEXTM\0", version uint16, hash bits uint8, hand inputs uint8,
//	flags uint8 (version 3 only: 1 binary), bias float32, hand weights [hand inputs]float32,
//	Platt scale and shift float32,
//	count of non-zero weights uvarint, then per weight: the gap from the
//	previous index uvarint and the weight float32,
//	CRC-32 (IEEE) of everything before it, uint32.
//
// Only non-zero weights are stored: a model trained on a few thousand texts
// touches a small part of the 2^18 buckets.

// Save writes the model in its binary format: version 2, without the
// flags byte, when no flag is set, so that a model without flags has the
// bytes it had before version 3 (snapshots name their model by its bytes).
func (m *Model) Save(w io.Writer) error {
	var flags byte
	if m.binary {
		flags |= flagBinary
	}
	version := uint16(modelVersion)
	if flags == 0 {
		version = 2
	}
	var b bytes.Buffer
	b.WriteString(modelMagic)
	b.Write(binary.LittleEndian.AppendUint16(nil, version))
	b.WriteByte(hashBits)
	b.WriteByte(handInputs)
	if version >= 3 {
		b.WriteByte(flags)
	}
	putF32 := func(v float32) { b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))) }
	putF32(m.bias)
	for _, v := range m.hand {
		putF32(v)
	}
	putF32(m.scale)
	putF32(m.shift)
	nnz := 0
	for _, v := range m.weights {
		if v != 0 {
			nnz++
		}
	}
	b.Write(binary.AppendUvarint(nil, uint64(nnz)))
	prev := 0
	for i, v := range m.weights {
		if v == 0 {
			continue
		}
		b.Write(binary.AppendUvarint(nil, uint64(i-prev)))
		putF32(v)
		prev = i
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("save adtext model: %w", err)
	}
	return nil
}

// maxModelBytes bounds what Load reads: a full model of 2^18 weights is
// under 2.5 MB.
const maxModelBytes = 8 << 20

// ErrNotModel is returned by Load for input that is not an adtext model.
var ErrNotModel = errors.New("not an adtext model")

// LoadFile is Load on the file at path; a load error names the path.
func LoadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Load reads a model written by Save. It refuses a file of another format,
// of another version, or truncated or corrupted, rather than score with
// half a model.
func Load(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), maxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load adtext model: %w", err)
	}
	if len(data) > maxModelBytes {
		return nil, fmt.Errorf("load adtext model: larger than %d bytes: %w", maxModelBytes, ErrNotModel)
	}
	if len(data) < len(modelMagic) || string(data[:len(modelMagic)]) != modelMagic {
		return nil, fmt.Errorf("load adtext model: bad magic header: %w", ErrNotModel)
	}
	const header = len(modelMagic) + 2 + 1 + 1
	if len(data) < header+4 {
		return nil, errors.New("load adtext model: truncated header")
	}
	version := binary.LittleEndian.Uint16(data[len(modelMagic):])
	if version != 2 && version != modelVersion {
		return nil, fmt.Errorf("load adtext model: version %d, this build reads versions 2 and %d", version, modelVersion)
	}
	if bits, hand := data[header-2], data[header-1]; bits != hashBits || hand != handInputs {
		return nil, fmt.Errorf("load adtext model: %d hash bits and %d hand inputs, this build uses %d and %d", bits, hand, hashBits, handInputs)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("load adtext model: checksum mismatch (truncated or corrupt file)")
	}
	m := newModel()
	p := body[header:]
	if version >= 3 {
		if len(p) < 1 || p[0]&^flagBinary != 0 {
			return nil, errors.New("load adtext model: unknown flags (written by a newer build?)")
		}
		m.binary = p[0]&flagBinary != 0
		p = p[1:]
	}
	f32 := func() (float32, bool) {
		if len(p) < 4 {
			return 0, false
		}
		v := math.Float32frombits(binary.LittleEndian.Uint32(p))
		p = p[4:]
		return v, true
	}
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	truncated := errors.New("load adtext model: truncated weights")
	var ok bool
	if m.bias, ok = f32(); !ok {
		return nil, truncated
	}
	for i := range m.hand {
		if m.hand[i], ok = f32(); !ok {
			return nil, truncated
		}
	}
	if m.scale, ok = f32(); !ok {
		return nil, truncated
	}
	if m.shift, ok = f32(); !ok {
		return nil, truncated
	}
	nnz, ok := uv()
	if !ok || nnz > hashBuckets {
		return nil, truncated
	}
	idx := uint64(0)
	for k := uint64(0); k < nnz; k++ {
		gap, ok := uv()
		if !ok {
			return nil, truncated
		}
		idx += gap
		if idx >= hashBuckets {
			return nil, fmt.Errorf("load adtext model: weight index %d out of range", idx)
		}
		if m.weights[idx], ok = f32(); !ok {
			return nil, truncated
		}
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("load adtext model: %d unexpected bytes after the weights", len(p))
	}
	return m, nil
}

//go:embed default.model
var defaultModel []byte

var loadDefault = sync.OnceValue(func() *Model {
	m, err := Load(bytes.NewReader(defaultModel))
	if err != nil {
		panic("adtext: embedded default.model: " + err.Error()) // a build defect; a test loads it
	}
	return m
})

// Default is the model trained on fixtures/ads with DefaultTrainOptions,
// embedded in the binary. It is shared: do not modify it.
func Default() *Model { return loadDefault() }
