package dtmf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

// keys names the keys by the package's index (row*4 + column), for tests only:
// the package itself never turns a tone into a character.
const keys = "123A456B789C*0#D"

func keyIndex(k byte) int8 { return int8(strings.IndexByte(keys, k)) }

// sharedDir holds audio made once per test binary (the hour of speech).
var sharedDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dtmf-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tone is one keypress as sox makes it.
type tone struct {
	key   byte
	dur   time.Duration
	level float64 // dBFS of the two-tone signal's peak: 20·log10(a_low + a_high)
	twist float64 // dB, low group over high group (negative: reverse twist)
	dev   float64 // relative frequency error of both frequencies, e.g. 0.015
}

// piece is a tone or, when tone.key is 0, a pause of gap.
type piece struct {
	tone tone
	gap  time.Duration
}

// keyed is a sequence of tones made by sox, with where each tone is.
type keyed struct {
	pcm   []int16
	tones []Interval
	keys  []byte
}

// amplitudes returns the peak amplitudes (full scale 1) of the low and the
// high frequency of t.
func (t tone) amplitudes() (low, high float64) {
	total := math.Pow(10, t.level/20)
	r := math.Pow(10, t.twist/20)
	high = total / (1 + r)
	return total - high, high
}

func (t tone) freqs() (low, high float64) {
	i := keyIndex(t.key)
	return float64(toneHz[i/4]) * (1 + t.dev), float64(toneHz[4+i%4]) * (1 + t.dev)
}

// soxKeys makes pieces with one sox run (one effects chain per piece) as
// mono PCM16 at rate. Each tone starts at a random phase of each frequency.
func soxKeys(t testing.TB, rate int, pieces []piece, seed uint64) keyed {
	t.Helper()
	sox := testrig.NeedCommand(t, "sox")
	rng := rand.New(rand.NewPCG(seed, 1))
	out := filepath.Join(t.TempDir(), "keys.raw")
	args := []string{"-D", "-r", fmt.Sprint(rate), "-c", "2", "-n", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", out}
	var k keyed
	var pos int64
	samples := func(d time.Duration) int64 { return int64(d) * int64(rate) / int64(time.Second) }
	for i, p := range pieces {
		if i > 0 {
			args = append(args, ":")
		}
		secs := func(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }
		if p.tone.key == 0 {
			args = append(args, "trim", "0", secs(p.gap))
			pos += samples(p.gap)
			continue
		}
		lo, hi := p.tone.freqs()
		al, ah := p.tone.amplitudes()
		args = append(args, "synth", "-n", secs(p.tone.dur),
			"sine", fmt.Sprintf("%.3f", lo), "0", fmt.Sprintf("%.1f", rng.Float64()*100),
			"sine", fmt.Sprintf("%.3f", hi), "0", fmt.Sprintf("%.1f", rng.Float64()*100),
			"remix", fmt.Sprintf("1v%.6f,2v%.6f", al, ah))
		n := samples(p.tone.dur)
		k.tones = append(k.tones, Interval{pos, pos + n})
		k.keys = append(k.keys, p.tone.key)
		pos += n
	}
	run(t, sox, args...)
	k.pcm = readRaw(t, out)
	if int64(len(k.pcm)) != pos {
		t.Fatalf("sox made %d samples, want %d", len(k.pcm), pos)
	}
	return k
}

// sequence is pieces for the given tones, each followed by gap.
func sequence(tones []tone, gap time.Duration) []piece {
	ps := []piece{{gap: gap}}
	for _, t := range tones {
		ps = append(ps, piece{tone: t}, piece{gap: gap})
	}
	return ps
}

func soxBin(t testing.TB) string { return testrig.NeedCommand(t, "sox") }

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func readRaw(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytesToPCM(b)
}

func bytesToPCM(b []byte) []int16 {
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

func pcmToBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// writeWAV writes interleaved PCM16 as a WAV file (for multimon-ng).
func writeWAV(t testing.TB, path string, rate, channels int, pcm []int16) {
	t.Helper()
	data := pcmToBytes(pcm)
	h := make([]byte, 44)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(data)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(data)))
	if err := os.WriteFile(path, append(h, data...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// g711 passes mono PCM16 at 8 kHz through G.711 (law "u-law" or "a-law")
// and back with sox, as audio from the phone system arrives.
func g711(t testing.TB, pcm []int16, law string) []int16 {
	t.Helper()
	return bytesToPCM(g711Raw(t, pcmToBytes(pcm), law))
}

// g711Raw is g711 for raw little-endian PCM16.
func g711Raw(t testing.TB, raw []byte, law string) []byte {
	t.Helper()
	sox := soxBin(t)
	dir := t.TempDir()
	in, enc, out := filepath.Join(dir, "in.raw"), filepath.Join(dir, "g711.raw"), filepath.Join(dir, "out.raw")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	f := []string{"-t", "raw", "-r", "8000", "-c", "1"}
	run(t, sox, append(append(append([]string{"-D"}, f...), "-e", "signed", "-b", "16", in), append(f, "-e", law, "-b", "8", enc)...)...)
	run(t, sox, append(append(append([]string{"-D"}, f...), "-e", law, "-b", "8", enc), append(f, "-e", "signed", "-b", "16", out)...)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noise is white noise from sox at rms dBFS (relative to a full-scale sine).
func noise(t testing.TB, rate int, n int, rms float64, seed int) []int16 {
	t.Helper()
	sox := testrig.NeedCommand(t, "sox")
	out := filepath.Join(t.TempDir(), "noise.raw")
	secs := fmt.Sprintf("%.6f", float64(n)/float64(rate))
	run(t, sox, "-D", "-R", "-r", fmt.Sprint(rate), "-c", "1", "-n", "-b", "16", "-e", "signed", "-t", "raw", out,
		"synth", "-n", secs, "whitenoise", "vol", "0.5", "remix", "1", "gain", "-n", fmt.Sprintf("%.2f", rms))
	pcm := readRaw(t, out)
	return scaleRMS(pcm[:min(n, len(pcm))], rms)
}

// scaleRMS scales pcm so that its RMS is rms dBFS (0 dBFS being the RMS of a
// full-scale sine), counting only its louder half of 20 ms stretches so that
// pauses in speech do not inflate the level.
func scaleRMS(pcm []int16, rms float64) []int16 {
	cur := activeRMS(pcm)
	if cur == 0 {
		return pcm
	}
	g := 32768 / math.Sqrt2 * math.Pow(10, rms/20) / cur
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = clip16(float64(s) * g)
	}
	return out
}

// activeRMS is the RMS of the louder half of the 20 ms stretches of pcm.
func activeRMS(pcm []int16) float64 {
	const n = 160
	var ms []float64
	for i := 0; i+n <= len(pcm); i += n {
		var s float64
		for _, v := range pcm[i : i+n] {
			s += float64(v) * float64(v)
		}
		ms = append(ms, s/n)
	}
	if len(ms) == 0 {
		return 0
	}
	sortFloats(ms)
	var s float64
	half := ms[len(ms)/2:]
	for _, v := range half {
		s += v
	}
	return math.Sqrt(s / float64(len(half)))
}

func sortFloats(x []float64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

func clip16(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// mix adds b (from sample 0) onto a copy of a.
func mix(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i, s := range a {
		v := float64(s)
		if i < len(b) {
			v += float64(b[i])
		}
		out[i] = clip16(v)
	}
	return out
}

// interleave makes stereo frames of left and right (padded with silence).
func interleave(left, right []int16) []int16 {
	n := max(len(left), len(right))
	out := make([]int16, 2*n)
	for i := 0; i < n; i++ {
		if i < len(left) {
			out[2*i] = left[i]
		}
		if i < len(right) {
			out[2*i+1] = right[i]
		}
	}
	return out
}

// multimonDTMF decodes a WAV file with multimon-ng's DTMF decoder and returns
// the keys it heard.
func multimonDTMF(t testing.TB, wav string) string {
	t.Helper()
	mm := testrig.NeedCommand(t, "multimon-ng")
	testrig.NeedCommand(t, "sox") // multimon-ng converts the WAV with sox
	out := run(t, mm, "-q", "-c", "-a", "DTMF", "-t", "wav", wav)
	var heard strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if k, ok := strings.CutPrefix(strings.TrimSpace(line), "DTMF: "); ok {
			heard.WriteString(k)
		}
	}
	return heard.String()
}

// ---- Speech and music that must not be masked ---------------------------

// corpus is audio made once per test binary: little-endian PCM16 mono by
// sample rate. It stays in bytes (an hour is 115 MB at 16 kHz) and tests
// convert only the stretches they use.
type corpus struct {
	once sync.Once
	raw  map[int][]byte
	err  error
}

var speech, music corpus

// speechVoices are the espeak-ng voices and variants that read the corpus:
// British, Scottish, Welsh-border, Caribbean and American English, and the
// Welsh, Polish, Urdu and Punjabi voices reading English, as men, women and
// a croaky voice.
var speechVoices = []string{
	"en-gb", "en-gb+f3", "en-gb-scotland+m3", "en-gb-x-rp+f2", "en-us+f4", "en-029+m5",
	"en-gb-x-gbcwmd+f5", "en-gb-x-gbclan+m7", "en-us-nyc+klatt", "en-gb+croak", "en-gb+f1", "en-us+m2",
	"cy+f2", "pl+m4", "ur+f3", "pa+m1",
}

// speechHour returns an hour of espeak-ng speech at rate: the repository's
// documentation and made-up call-centre talk, read by speechVoices at speeds
// from 120 to 260 words a minute and pitches from 10 to 90. It is made once
// per test binary.
func speechHour(t testing.TB, rate int) []byte {
	t.Helper()
	espeak := testrig.NeedCommand(t, "espeak-ng")
	sox := testrig.NeedCommand(t, "sox")
	speech.once.Do(func() { speech.raw, speech.err = makeSpeech(espeak, sox, time.Hour) })
	if speech.err != nil {
		t.Fatal(speech.err)
	}
	return speech.raw[rate]
}

// stretch is samples [off, off+n) of raw PCM16.
func stretch(raw []byte, off, n int) []int16 { return bytesToPCM(raw[2*off : 2*(off+n)]) }

func makeSpeech(espeak, sox string, total time.Duration) (map[int][]byte, error) {
	texts, err := speechTexts()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(sharedDir, "speech-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	const espeakRate = 22050
	rng := rand.New(rand.NewPCG(20, 20))
	type job struct {
		text, voice  string
		speed, pitch int
	}
	var jobs []job
	for i := 0; i < 2*len(texts); i++ {
		jobs = append(jobs, job{texts[i%len(texts)], speechVoices[i%len(speechVoices)], 120 + rng.IntN(141), 10 + rng.IntN(81)})
	}
	want := int64(total.Seconds() * espeakRate)
	// Two readers take the pieces in order until there is an hour; the
	// speech is the same whichever read which piece.
	var (
		mu       sync.Mutex
		taken    int
		produced int64
		firstErr error
		wg       sync.WaitGroup
	)
	piece := func(i int) string { return filepath.Join(dir, fmt.Sprintf("%04d.wav", i)) }
	for range min(2, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if produced >= want || taken == len(jobs) || firstErr != nil {
					mu.Unlock()
					return
				}
				i := taken
				taken++
				mu.Unlock()
				j := jobs[i]
				cmd := exec.Command(espeak, "-v", j.voice, "-s", fmt.Sprint(j.speed), "-p", fmt.Sprint(j.pitch), "-w", piece(i))
				cmd.Stdin = strings.NewReader(j.text)
				var size int64
				out, err := cmd.CombinedOutput()
				if err != nil {
					err = fmt.Errorf("%w: %s", err, out)
				} else if fi, serr := os.Stat(piece(i)); serr != nil {
					err = serr
				} else {
					size = (fi.Size() - 44) / 2
				}
				mu.Lock()
				produced += size
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("espeak-ng -v %s: %w", j.voice, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if produced < want {
		return nil, fmt.Errorf("espeak-ng read only %v of speech", time.Duration(produced)*time.Second/espeakRate)
	}
	var inputs []string
	for i := 0; i < taken; i++ {
		inputs = append(inputs, piece(i))
	}
	return resampleAll(sox, inputs, total)
}

// resampleAll has sox join the input files, keep the first d of them and
// write that at 16 and 8 kHz.
func resampleAll(sox string, inputs []string, d time.Duration) (map[int][]byte, error) {
	dir, err := os.MkdirTemp(sharedDir, "rate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	raw := func(rate int) []string {
		return []string{"-t", "raw", "-r", fmt.Sprint(rate), "-e", "signed", "-b", "16", "-c", "1"}
	}
	out16, out8 := filepath.Join(dir, "16.raw"), filepath.Join(dir, "8.raw")
	args := append([]string{"-D"}, inputs...)
	args = append(append(append(args, raw(16000)...), out16), "trim", "0", fmt.Sprintf("%.3f", d.Seconds()))
	if b, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sox to 16 kHz: %v: %s", err, b)
	}
	args = append(append(append([]string{"-D"}, raw(16000)...), out16), append(raw(8000), out8)...)
	if b, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sox to 8 kHz: %v: %s", err, b)
	}
	res := map[int][]byte{}
	for rate, f := range map[int]string{16000: out16, 8000: out8} {
		if res[rate], err = os.ReadFile(f); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// speechTexts is what the voices read: a fixed English text (the project's
// documentation as it stood when the corpus was made, in testdata, so the
// test hears the same speech whatever the docs say today) in chunks of about
// 120 words, and call-centre talk with numbers, dates and amounts,
// interleaved.
func speechTexts() ([]string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "speech.txt"))
	if err != nil {
		return nil, err
	}
	words := strings.Fields(string(b))
	if len(words) < 5000 {
		return nil, fmt.Errorf("only %d words of text to read", len(words))
	}
	var docs []string
	for i := 0; i < len(words); i += 120 {
		docs = append(docs, strings.Join(words[i:min(len(words), i+120)], " "))
	}
	talk := callTalk(len(docs))
	var texts []string
	for i := range docs {
		texts = append(texts, docs[i], talk[i])
	}
	return texts, nil
}

// callTalk makes n made-up stretches of what officers and callers say.
func callTalk(n int) []string {
	rng := rand.New(rand.NewPCG(4235, 1))
	names := []string{"Mrs Patel", "Mr O'Brien", "Ms Nowak", "Dr Evans", "Mr Okafor", "Miss Campbell", "Mr Singh", "Mrs Jones"}
	streets := []string{"Acacia Avenue", "Station Road", "Church Lane", "Victoria Street", "Mill Hill", "Queen's Drive"}
	towns := []string{"Leeds", "Cardiff", "Glasgow", "Norwich", "Belfast", "Swindon", "Preston", "Hull"}
	lines := []func() string{
		func() string {
			return fmt.Sprintf("Good morning, you're through to the accounts team, my name is %s, how can I help?", names[rng.IntN(len(names))])
		},
		func() string {
			return fmt.Sprintf("It's %d %s, %s, and the postcode is %c%c%d %d%c%c.", 1+rng.IntN(200), streets[rng.IntN(len(streets))], towns[rng.IntN(len(towns))],
				'A'+rng.IntN(26), 'A'+rng.IntN(26), rng.IntN(20), rng.IntN(10), 'A'+rng.IntN(26), 'A'+rng.IntN(26))
		},
		func() string {
			return fmt.Sprintf("My number is oh seven seven %d %d %d, double %d, %d %d %d.", rng.IntN(10), rng.IntN(10), rng.IntN(10), rng.IntN(10), rng.IntN(10), rng.IntN(10), rng.IntN(10))
		},
		func() string {
			return fmt.Sprintf("The balance is %d pounds and %d pence, due on the %dth of %s.", rng.IntN(3000), rng.IntN(100), 4+rng.IntN(24),
				[]string{"January", "March", "June", "September", "November"}[rng.IntN(5)])
		},
		func() string {
			return "I'm going to pause the recording now while you give me the card details, is that all right? Thank you. Go ahead when you're ready."
		},
		func() string {
			return fmt.Sprintf("Could you spell that for me? %c for %s, %c for %s.", 'A'+rng.IntN(26), []string{"alpha", "Bravo", "Charlie", "delta"}[rng.IntN(4)],
				'A'+rng.IntN(26), []string{"echo", "foxtrot", "golf", "hotel"}[rng.IntN(4)])
		},
		func() string {
			return "Sorry, you're breaking up a little. Hello? Can you hear me now? Oh that's much better, thank you so much for waiting, I do apologise."
		},
		func() string {
			return fmt.Sprintf("Your reference is %d %d %d %d, and I've booked the engineer for %d o'clock on %s.", rng.IntN(1000), rng.IntN(1000), rng.IntN(100), rng.IntN(10),
				1+rng.IntN(12), []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}[rng.IntN(5)])
		},
		func() string {
			return "Mmm. Yes. No, no, that's fine. Right, okay. Uh huh. Oh dear. Ha ha, yes, I know what you mean! Lovely, brilliant, cheers, bye bye now."
		},
	}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for j := 0; j < 6; j++ {
			b.WriteString(lines[rng.IntN(len(lines))]())
			b.WriteByte(' ')
		}
		out[i] = b.String()
	}
	return out
}

// musicMinutes returns d of chords from sox's synth at rate (triads and
// seventh chords in every key, from the bass to the treble, played by sine,
// triangle, square, sawtooth and trapezium voices), made once per test
// binary.
func musicMinutes(t testing.TB, rate int, d time.Duration) []byte {
	t.Helper()
	sox := testrig.NeedCommand(t, "sox")
	music.once.Do(func() { music.raw, music.err = makeMusic(sox, d) })
	if music.err != nil {
		t.Fatal(music.err)
	}
	return music.raw[rate]
}

func makeMusic(sox string, total time.Duration) (map[int][]byte, error) {
	dir, err := os.MkdirTemp(sharedDir, "music-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rng := rand.New(rand.NewPCG(440, 1))
	chords := [][]int{{0, 4, 7, 12}, {0, 3, 7, 12}, {0, 4, 7, 10}, {0, 4, 7, 11}, {0, 3, 7, 10}, {0, 3, 6, 9}, {0, 5, 7, 12}, {0, 4, 7, 14}, {0, 4, 9, 16}}
	waves := []string{"sine", "sine", "triangle", "square", "sawtooth", "trapezium"}
	var files []string
	var made time.Duration
	for made < total {
		out := filepath.Join(dir, fmt.Sprintf("%03d.wav", len(files)))
		args := []string{"-D", "-r", "16000", "-c", "4", "-n", "-c", "1", "-b", "16", out}
		for c := 0; c < 40; c++ {
			if c > 0 {
				args = append(args, ":")
			}
			dur := 0.25 + rng.Float64()*1.5
			made += time.Duration(dur * float64(time.Second))
			root := -33 + rng.IntN(48) // semitones from A4: A1 to G#5
			wave := waves[rng.IntN(len(waves))]
			args = append(args, "synth", "-n", fmt.Sprintf("%.3f", dur))
			for _, iv := range chords[rng.IntN(len(chords))] {
				args = append(args, wave, fmt.Sprintf("%%%d", root+iv))
			}
			g := 0.12 + rng.Float64()*0.1
			args = append(args, "remix", fmt.Sprintf("1v%.3f,2v%.3f,3v%.3f,4v%.3f", g, g, g, g),
				"fade", "q", "0.02", fmt.Sprintf("%.3f", dur), "0.05")
		}
		if b, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("sox synth chords: %v: %s", err, b)
		}
		files = append(files, out)
	}
	return resampleAll(sox, files, total)
}
