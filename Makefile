# Quick start: `make demo` (separate toy mixes with the bundled priors) and `make test`.
# Both install first and are idempotent: an existing .venv is reused.
VENV ?= .venv
PY := $(VENV)/bin/python
SF2 := /usr/share/sounds/sf2/FluidR3_GM.sf2
SF3 := /usr/share/sounds/sf3/MuseScore_General_Lite.sf3
# glibc's allocator thrashes on large conv activations (2.6x slower WaveNet training without this)
export MALLOC_MMAP_THRESHOLD_ := 17179869184
export MALLOC_TRIM_THRESHOLD_ := 17179869184
export MALLOC_TOP_PAD_ := 1073741824

.PHONY: install demo test bench-toy diagnose-toy
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	# ffmpeg for musdb/museval; FluidSynth and two General-MIDI SoundFonts for the synthetic band stems
	@command -v ffmpeg >/dev/null && command -v fluidsynth >/dev/null && test -f $(SF2) && test -f $(SF3) || \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg fluidsynth fluid-soundfont-gm \
	   musescore-general-soundfont-small)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: an unpinned torch pulls gigabytes of CUDA wheels
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	@touch $@

demo: install
	$(PY) examples/toy_demo.py --out demo_output
	$(PY) examples/band_demo.py --out demo_output/band

test: install
	$(PY) -m pytest -q --durations=15

bench-toy: install
	$(VENV)/bin/priorsep bench toy --n 16 --json benchmarks/results/toy.json

diagnose-toy: install
	$(VENV)/bin/priorsep diagnose --priors toy --png benchmarks/results/cross_likelihood_toy.png
