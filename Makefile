# Quick start: `make demo` (separate toy mixes with the bundled priors) and `make test`.
# Both install first and are idempotent: an existing .venv is reused.
VENV ?= .venv
PY := $(VENV)/bin/python
SF2 := /usr/share/sounds/sf2/FluidR3_GM.sf2
SF3 := /usr/share/sounds/sf3/MuseScore_General_Lite.sf3
KIT := /usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2
# glibc's allocator thrashes on large conv activations (2.6x slower WaveNet training without this)
export MALLOC_MMAP_THRESHOLD_ := 17179869184
export MALLOC_TRIM_THRESHOLD_ := 17179869184
export MALLOC_TOP_PAD_ := 1073741824

.PHONY: install browser demo test bench-toy diagnose-toy
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt Makefile
	# ffmpeg for musdb/museval; FluidSynth, General-MIDI SoundFonts and drum kits for the synthetic band stems
	# (benchmarks/recipes/make_band_data.sh also installs opl3-soundfont, 135 MB, for training data)
	@command -v ffmpeg >/dev/null && command -v fluidsynth >/dev/null && test -f $(SF2) && test -f $(SF3) && \
	  test -f $(KIT) || (apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg fluidsynth \
	   fluid-soundfont-gm musescore-general-soundfont-small timgm6mb-soundfont csound-soundfont avldrums.lv2)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: an unpinned torch pulls gigabytes of CUDA wheels
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[test,peers]"
	@touch $@

demo: install
	$(PY) examples/toy_demo.py --out demo_output
	$(PY) examples/band_demo.py --out demo_output/band

test: install browser
	$(PY) -m pytest -q -rs --durations=15

# headless Chromium for the listening report's browser test; where apt cannot install it the test skips and says why
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver) || \
	  echo "could not install chromium + chromium-driver: the browser test will skip"

bench-toy: install
	$(VENV)/bin/priorsep bench toy --n 16 --json benchmarks/results/toy.json

diagnose-toy: install
	$(VENV)/bin/priorsep diagnose --priors toy --png benchmarks/results/cross_likelihood_toy.png
