# The two set-up commands (see README.md):
#   make test   install what is missing, build, run every test
#   make demo   install what is missing, build, run the main job
# Plain `make` only builds (run `make deps` once on a new machine).
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo format clean

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

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
