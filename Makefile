# The two set-up commands (see README.md):
#   make test   install what is missing, build, run every test
#   make demo   install what is missing, build, run the main job
# Plain `make` only builds (run `make deps` once on a new machine).
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo format clean sanitize fuzz

all: build

deps:
	scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: deps
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: deps
	$(MAKE) build
	scripts/demo.sh $(BUILD)

# ASan + UBSan (+ LeakSanitizer) build in build-sanitize/ with the default
# compiler, the one anvilc links models with: anvilc, anvil-opt, the runtime
# compiled models link and the unit tests are instrumented, generated model
# code is not. Runs the GoogleTest and lit tests there; any report fails.
# At -O1, as ASan's documentation suggests: instrumented code compiles
# about 1.7x faster than at -O3 (compiler/Parameters.cpp: 9.7 vs 16.9 s
# user), and the build is a full second one.
# Passed on 2026-12-02: 223 tests in 37 s. The first build is a full second
# build of the project (tens of minutes on 2 cores); ccache keeps later ones
# to minutes.
SANITIZE_BUILD ?= build-sanitize
sanitize: deps
	cmake -G Ninja -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
	  -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DANVIL_SANITIZE=ON
	cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target anvilc anvil-opt \
	  anvil-unittests AnvilModelMain AnvilTrainerMain AnvilRuntime
	cd $(SANITIZE_BUILD) && UBSAN_OPTIONS=print_stacktrace=1 ctest \
	  --output-on-failure \
	  -j $(JOBS) -E '^(e2e-|onnx-conformance)'

# libFuzzer harnesses (fuzz/README.md) built with clang in build-fuzz/, then
# each run for FUZZ_SECONDS.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/install-fuzz-deps.sh
	CC=clang-19 CXX=clang++-19 cmake -G Ninja -S . -B $(FUZZ_BUILD) \
	  -DCMAKE_BUILD_TYPE=Release -DANVIL_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
