"""Synthetic band stems: generated MIDI rendered through FluidSynth.

Each track has one tempo, key and chord progression shared by its four parts, so the stems are
correlated as in real music: ``bass`` (GM programs 32-39), ``drums`` (channel 10 kits), ``guitar``
(24-30) and ``piano`` (0-7), with programs, rhythm patterns, registers and dynamics drawn per track.
Every stem is rendered with the same SoundFont gain and no normalisation, so the stems keep their
real relative levels; the mixture is their sum. Files are 32-bit float wavs at 16000 Hz in the
MUSDB layout ``DIR/{train,test}/<track>/{mixture,bass,drums,guitar,piano}.wav``.

A different SoundFont is a different set of instrument recordings: render the test tracks with
another one to measure how priors trained on one set of instruments generalise. With several
SoundFonts each stem of a track draws its own (from those that can play it), so one mix holds
instruments of several sets. The MuseScore SoundFonts are the project's unseen-instrument test:
tracks rendered with them are marked held out, and priorsep refuses to train on them
(:func:`check_trainable`).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio import fit_length, write_audio
from ..errors import ConfigError, DataError, DataNotFoundError

BAND_SAMPLE_RATE = 16000
BAND_SOURCES = ("bass", "drums", "guitar", "piano")
BAND_MIXING = "sum"



@dataclass(frozen=True)
class SoundFont:
    """A SoundFont file and what it can render. ``parts``: the stems it plays; ``kit_as_preset``: its
    drum kit is preset 0 of bank 0 (the avldrums kits), so drum parts are written as a melodic
    instrument for it; ``heldout``: the unseen-instrument test (never trained on)."""

    name: str
    path: Path
    parts: tuple[str, ...] = BAND_SOURCES
    kit_as_preset: bool = False
    heldout: bool = False
    package: str = ""  # the Debian package that installs it

    def describe(self) -> str:
        return self.path.name


#: Named SoundFonts, all from Debian packages. ``musescore*`` are the held-out instruments.
SOUNDFONTS: dict[str, SoundFont] = {f.name: f for f in (
    SoundFont("fluidr3", Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), package="fluid-soundfont-gm"),
    SoundFont("timgm6mb", Path("/usr/share/sounds/sf2/TimGM6mb.sf2"), package="timgm6mb-soundfont"),
    SoundFont("gmbank", Path("/usr/share/sounds/sf2/sf_GMbank.sf2"), package="csound-soundfont"),
    SoundFont("opl3", Path("/usr/share/sounds/sf2/OPL-3_FM_128M.sf2"), package="opl3-soundfont"),
    SoundFont("black-pearl", Path("/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2"), parts=("drums",),
              kit_as_preset=True, package="avldrums.lv2"),
    SoundFont("red-zeppelin", Path("/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2"), parts=("drums",),
              kit_as_preset=True, package="avldrums.lv2"),
    SoundFont("musescore", Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"), heldout=True,
              package="musescore-general-soundfont-small"),
    SoundFont("musescore-full", Path("/usr/share/sounds/sf3/MuseScore_General.sf3"), heldout=True,
              package="musescore-general-soundfont"),
)}
DEFAULT_SOUNDFONT = "fluidr3"

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Progressions as scale degrees (0 = tonic), one chord per bar.
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (1, 4, 0, 5), (0, 3, 4, 3), (5, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (5, 6, 0, 0)),
}
_GM_DRUM = {"kick": 36, "snare": 38, "closed_hat": 42, "open_hat": 46, "ride": 51, "crash": 49, "low_tom": 45}
_DRUM_KITS = (0, 8, 16, 24, 25, 32, 40)  # GM2 kit presets on the drum bank (FluidSynth falls back to kit 0)


def resolve_soundfont(soundfont: str | Path | None) -> SoundFont:
    """A :class:`SoundFont` from a name in :data:`SOUNDFONTS`, a path (playing every part; held out
    if its real name says MuseScore), or ``None`` (FluidR3_GM). Raises
    :class:`~priorsep.errors.DataNotFoundError` for a missing file and
    :class:`~priorsep.errors.DataError` for a file that is not a SoundFont."""
    key = str(soundfont or DEFAULT_SOUNDFONT)
    if key in SOUNDFONTS:
        font = SOUNDFONTS[key]
        if not font.path.is_file():
            raise DataNotFoundError(f"SoundFont {key!r} not found at {font.path} (apt-get install {font.package}); "
                                    f"named ones: {sorted(SOUNDFONTS)}")
    else:
        path = Path(key)
        if not path.is_file():
            raise DataNotFoundError(f"SoundFont not found: {path} (expected an .sf2/.sf3 file or one of the named "
                                    f"ones: {sorted(SOUNDFONTS)})")
        font = SoundFont(path.stem, path, heldout="musescore" in path.resolve().name.lower())
    with open(font.path, "rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":  # sf2 and sf3 are both RIFF 'sfbk' files
        raise DataError(f"{font.path} is not a SoundFont (an .sf2/.sf3 file starts with RIFF....sfbk)")
    return font


def check_trainable(path: str | Path) -> str | None:
    """Refuse an audio file of a band track rendered with a held-out SoundFont (its track's
    ``song.json`` says so): those instruments are the unseen-instrument test. Returns the SoundFont
    file that rendered the stem (``bass.wav`` -> the bass part's), for the checkpoint's record of its
    training data; ``None`` for a file that is not a stem of a band track."""
    song = Path(path).resolve().parent / "song.json"
    if not song.is_file():
        return None
    try:
        meta = json.loads(song.read_text())
        heldout = bool(meta.get("heldout"))
    except (ValueError, AttributeError):
        return None  # not a song.json of ours
    if heldout:
        raise DataError(f"{path} was rendered with a held-out SoundFont (MuseScore: the unseen-instrument "
                        "test set); priorsep does not train on it")
    fonts = meta.get("soundfonts")
    font = fonts.get(Path(path).resolve().stem) if isinstance(fonts, dict) else None
    font = font or meta.get("soundfont")  # tracks rendered before per-stem SoundFonts were recorded
    return font if isinstance(font, str) and font != "several" else None


def soundfont_note(fonts) -> str:
    """``"; rendered with SoundFonts A, B"`` for the names in ``fonts`` (``None`` skipped), or ``""``."""
    names = sorted({f for f in fonts if f})
    return f"; rendered with SoundFonts {', '.join(names)}" if names else ""


def _chord(key: int, scale: tuple[int, ...], degree: int, size: int = 3) -> list[int]:
    """Pitch classes (semitones above C, may exceed 12) of the diatonic chord on ``degree``."""
    return [key + scale[(degree + 2 * i) % 7] + 12 * ((degree + 2 * i) // 7) for i in range(size)]


def _place(pitch_class: int, low: int, high: int) -> int:
    """The MIDI pitch of ``pitch_class`` (mod 12) closest above ``low``, kept below ``high``."""
    p = low + (pitch_class - low) % 12
    return p if p <= high else p - 12


def compose(rng: np.random.Generator, seconds: float) -> dict:
    """A random song sketch: tempo, key, progression and per-part programs and patterns."""
    mode = "major" if rng.random() < 0.6 else "minor"
    progressions = _PROGRESSIONS[mode]
    return {
        "tempo": float(rng.integers(80, 141)),
        "key": int(rng.integers(0, 12)),
        "mode": mode,
        "progression": list(progressions[rng.integers(len(progressions))]),
        "seconds": float(seconds),
        "programs": {
            "bass": int(rng.integers(32, 40)),
            "drums": int(rng.choice(_DRUM_KITS)),
            "guitar": int(rng.integers(24, 31)),
            "piano": int(rng.integers(0, 8)),
        },
        "patterns": {
            "bass": str(rng.choice(["roots", "root_fifth", "eighths", "walking"])),
            "drums": str(rng.choice(["rock", "half_time", "disco", "shuffle"])),
            "guitar": str(rng.choice(["strum", "arpeggio", "offbeat"])),
            "piano": str(rng.choice(["block", "arpeggio", "melody"])),
        },
        "registers": {"bass": int(rng.integers(28, 36)), "guitar": int(rng.integers(48, 56)),
                      "piano": int(rng.integers(55, 65))},
        "levels": {s: int(rng.integers(70, 111)) for s in BAND_SOURCES},
    }


def _notes(song: dict, part: str, rng: np.random.Generator) -> list[tuple[int, float, float, int]]:
    """``(pitch, start s, end s, velocity)`` of one part of ``song``."""
    beat = 60.0 / song["tempo"]
    scale = _MAJOR if song["mode"] == "major" else _MINOR
    n_bars = int(np.ceil(song["seconds"] / (4 * beat)))
    pattern, level = song["patterns"][part], song["levels"][part]
    notes = []

    def add(pitch, start, length, accent=0):
        vel = int(np.clip(level + accent + rng.integers(-8, 9), 1, 127))
        notes.append((int(pitch), float(start), float(start + length), vel))

    for bar in range(n_bars):
        t0 = bar * 4 * beat
        chord = _chord(song["key"], scale, song["progression"][bar % len(song["progression"])])
        if part == "bass":
            low = song["registers"]["bass"]
            root, fifth = _place(chord[0], low, low + 14), _place(chord[2], low, low + 14)
            if pattern == "roots":
                for b in range(4):
                    add(root, t0 + b * beat, 0.9 * beat, 10 if b == 0 else 0)
            elif pattern == "root_fifth":
                for b in range(4):
                    add(root if b % 2 == 0 else fifth, t0 + b * beat, 0.9 * beat)
            elif pattern == "eighths":
                for e in range(8):
                    add(root, t0 + e * beat / 2, 0.45 * beat, 8 if e % 2 == 0 else -5)
            else:  # walking: chord tones and a passing note
                walk = [root, _place(chord[1], low, low + 14), fifth, root + (2 if rng.random() < 0.5 else -1)]
                for b in range(4):
                    add(walk[b], t0 + b * beat, 0.95 * beat)
        elif part == "drums":
            d = _GM_DRUM
            hat = d["ride"] if pattern == "shuffle" else d["closed_hat"]
            if bar % 4 == 0:
                add(d["crash"], t0, beat, 5)
            for e in range(8):
                t = t0 + e * beat / 2 + (beat / 6 if pattern == "shuffle" and e % 2 else 0)
                add(d["open_hat"] if pattern == "disco" and e % 2 else hat, t, 0.2 * beat, -10 if e % 2 else 0)
            kicks = {"rock": (0, 2.5), "half_time": (0,), "disco": (0, 1, 2, 3), "shuffle": (0, 2)}[pattern]
            snares = {"rock": (1, 3), "half_time": (2,), "disco": (1, 3), "shuffle": (1, 3)}[pattern]
            for b in kicks:
                add(d["kick"], t0 + b * beat, 0.3 * beat, 10)
            for b in snares:
                add(d["snare"], t0 + b * beat, 0.3 * beat, 5)
            if bar % 4 == 3 and rng.random() < 0.5:  # a fill on the last beat
                for e in range(4):
                    add(d["low_tom"] if e % 2 else d["snare"], t0 + 3 * beat + e * beat / 4, 0.2 * beat)
        else:
            low = song["registers"][part]
            voicing = sorted(_place(p, low, low + 16) for p in chord)
            if pattern in ("strum", "block"):
                hits = (0, 1.5, 2, 3) if pattern == "strum" else (0, 2)
                for h in hits:
                    for i, p in enumerate(voicing):  # strummed: strings a few ms apart
                        add(p, t0 + h * beat + (0.012 * i if part == "guitar" else 0), (0.9 if h % 1 else 1.8) * beat)
            elif pattern == "offbeat":
                for b in range(4):
                    for p in voicing:
                        add(p, t0 + (b + 0.5) * beat, 0.35 * beat, -5)
            elif pattern == "arpeggio":
                seq = voicing + [voicing[0] + 12] + voicing[::-1][1:] + [voicing[0]]
                for e in range(8):
                    add(seq[e % len(seq)], t0 + e * beat / 2, 0.5 * beat)
            else:  # melody over the chord: scale notes, longer on chord tones
                t = t0
                while t < t0 + 4 * beat - 1e-6:
                    length = beat * float(rng.choice([0.5, 1.0, 1.5]))
                    degree = int(rng.integers(0, 7))
                    add(_place(song["key"] + scale[degree], low + 7, low + 20), t, 0.95 * length)
                    t += length
    return [n for n in notes if n[1] < song["seconds"]]


def _write_midi(song: dict, part: str, rng: np.random.Generator, path: Path, kit_as_preset: bool = False) -> None:
    """One part of ``song`` as a MIDI file (drums on the GM drum channel, or, ``kit_as_preset``, as
    melodic program 0 for SoundFonts whose kit is an ordinary preset)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=song["tempo"])
    drum_preset = kit_as_preset and part == "drums"
    inst = pretty_midi.Instrument(program=0 if drum_preset else song["programs"][part],
                                  is_drum=part == "drums" and not drum_preset, name=part)
    inst.notes = [pretty_midi.Note(velocity=v, pitch=p, start=s, end=e) for p, s, e, v in _notes(song, part, rng)]
    pm.instruments.append(inst)
    pm.write(str(path))


def render_midi(midi: Path, soundfont: Path, seconds: float, rate: int = BAND_SAMPLE_RATE, gain: float = 0.5
                ) -> np.ndarray:
    """Render a MIDI file with the ``fluidsynth`` command (no reverb or chorus, float output) to mono
    ``(round(seconds * rate),)`` float32, zero-padded or cut."""
    import soundfile as sf

    if shutil.which("fluidsynth") is None:
        raise DataError("the fluidsynth command is not installed (apt-get install fluidsynth fluid-soundfont-gm)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        cmd = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", str(gain), "-r", str(rate), "-O", "float",
               "-T", "wav", "-F", str(wav), str(soundfont), str(midi)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not wav.is_file():
            raise DataError(f"fluidsynth failed on {midi} with {soundfont}: {done.stderr.strip()[:300]}")
        audio, _ = sf.read(str(wav), dtype="float32", always_2d=True)
    return fit_length(audio.mean(1), int(round(seconds * rate))).astype(np.float32)


def render_track(folder: Path, song: dict, fonts: dict[str, SoundFont], rng: np.random.Generator,
                 stem_gains: dict[str, float] | None = None) -> dict:
    """Write one track's stems (``fonts[part]`` plays each; times ``stem_gains[part]``) and mixture
    into ``folder`` (atomically, mixture last) and its ``song.json``; returns the song with the
    stems' RMS levels."""
    folder.mkdir(parents=True, exist_ok=True)
    stems = {}
    with tempfile.TemporaryDirectory() as tmp:
        for part in BAND_SOURCES:
            midi = Path(tmp) / f"{part}.mid"
            _write_midi(song, part, rng, midi, fonts[part].kit_as_preset)
            stems[part] = render_midi(midi, fonts[part].path, song["seconds"]) * (stem_gains or {}).get(part, 1.0)
    mixture = np.sum([stems[s] for s in BAND_SOURCES], axis=0)
    gain = min(1.0, 0.99 / max(float(np.abs(mixture).max()), 1e-9))  # one common gain: no clipping in 16-bit copies
    names = {part: fonts[part].describe() for part in BAND_SOURCES}
    song = {**song, "gain": gain, "soundfont": names["bass"] if len(set(names.values())) == 1 else "several",
            "soundfonts": names, "heldout": any(fonts[part].heldout for part in BAND_SOURCES),
            "rms": {s: float(np.sqrt(np.mean((gain * stems[s]) ** 2))) for s in BAND_SOURCES}}
    if stem_gains:
        song["stem_gains"] = stem_gains
    (folder / "song.json").write_text(json.dumps(song, indent=1))
    for part in BAND_SOURCES:
        write_audio(folder / f"{part}.wav", gain * stems[part], BAND_SAMPLE_RATE)
    write_audio(folder / "mixture.wav", gain * mixture, BAND_SAMPLE_RATE)  # written last: marks the track done
    return song


def _track_fonts(fonts: list[SoundFont], rng: np.random.Generator) -> dict[str, SoundFont]:
    """Each part's SoundFont: drawn from those that play it (no draw when only one does)."""
    chosen = {}
    for part in BAND_SOURCES:
        able = [f for f in fonts if part in f.parts]
        if not able:
            raise ConfigError(f"none of the SoundFonts {[f.name for f in fonts]} plays {part}; add a General-MIDI one")
        chosen[part] = able[int(rng.integers(len(able)))] if len(able) > 1 else able[0]
    return chosen


def make_band_dataset(out: str | Path, tracks: int, seconds: float = 30.0, seed: int = 0,
                      soundfont: str | Path | list | tuple | None = None, test_tracks: int | None = None,
                      progress: bool = False, stem_gain_db: float = 0.0) -> Path:
    """Render ``tracks`` training and ``test_tracks`` (default ``max(1, tracks // 4)``) test tracks of
    ``seconds`` each into ``out/{train,test}/<track>/``. Track i of a subset depends only on
    (seed, subset, i); finished tracks (those with a ``mixture.wav``) are kept, so an interrupted
    run resumes.

    ``soundfont``: one SoundFont (name or path, see :func:`resolve_soundfont`) or several, of which
    each stem of a track draws one. ``stem_gain_db`` > 0: each stem's level is scaled by a gain
    drawn uniformly within +-``stem_gain_db`` dB (augmentation of the stems' balance). Both draws
    come from their own random stream, so with one SoundFont and no gains a track is what it was
    before either option existed. Returns ``out``."""
    from tqdm.auto import tqdm

    if tracks < 0 or (test_tracks is not None and test_tracks < 0) or not seconds > 0 or not stem_gain_db >= 0:
        raise ConfigError(f"need tracks >= 0, test_tracks >= 0, seconds > 0 and stem_gain_db >= 0; got {tracks}, "
                          f"{test_tracks}, {seconds}, {stem_gain_db}")
    test_tracks = max(1, tracks // 4) if test_tracks is None else test_tracks
    if tracks + test_tracks == 0:
        raise ConfigError("nothing to render: tracks and test_tracks are both 0")
    fonts = [resolve_soundfont(f) for f in (soundfont if isinstance(soundfont, (list, tuple)) else [soundfont])]
    if tracks and any(f.heldout for f in fonts):
        raise ConfigError(f"{[f.name for f in fonts if f.heldout]} are the held-out (unseen-instrument) SoundFonts: "
                          "render only test tracks with them (--tracks 0)")
    out = Path(out)
    jobs = [("train", i) for i in range(tracks)] + [("test", i) for i in range(test_tracks)]
    for subset, i in tqdm(jobs, disable=not progress, desc="rendering", unit="track"):
        folder = out / subset / f"band_{seed}_{subset}_{i:04d}"
        if (folder / "mixture.wav").is_file():
            continue
        rng = np.random.default_rng([seed, 0 if subset == "train" else 1, i])
        extra = np.random.default_rng([seed, 0 if subset == "train" else 1, i, 1])  # fonts and gains
        gains = ({part: float(10 ** (extra.uniform(-stem_gain_db, stem_gain_db) / 20)) for part in BAND_SOURCES}
                 if stem_gain_db else None)
        render_track(folder, compose(rng, seconds), _track_fonts(fonts, extra), rng, gains)
    meta = {"dataset": "synthetic band stems", "sources": list(BAND_SOURCES), "mixing": BAND_MIXING,
            "sample_rate": BAND_SAMPLE_RATE, "seed": seed, "seconds": seconds,
            "soundfont": str(fonts[0].path) if len(fonts) == 1 else [str(f.path) for f in fonts],
            "heldout": any(f.heldout for f in fonts), "stem_gain_db": stem_gain_db,
            "tracks": {"train": tracks, "test": test_tracks}}
    (out / "band.json").write_text(json.dumps(meta, indent=1))
    return out
