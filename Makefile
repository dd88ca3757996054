# ringcore: `make run` and `make test` are the two commands (see README.md).
# Everything is built by CMake in build/ (and build-asan/ for the sanitizers);
# this Makefile only installs what is missing and wraps CMake/ctest.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Debian packages the build and the tests need (nasm and the emulators: the
# test kernel and its ring-0 judges, issue 5; bochs-sdl gives Bochs a display
# that runs headless with SDL's dummy driver).
PACKAGES   := cmake pkg-config gcc make check libcapstone-dev libunicorn-dev libcjson-dev \
              nasm qemu-system-x86 bochs bochs-sdl bochsbios vgabios
# Only `make fuzz` needs clang (libFuzzer).
FUZZ_PACKAGES := clang libclang-rt-dev

.PHONY: all deps build run test test-asan bench fuzz judges judges-ring0 clean

all: build

deps:
	@./tools/deps.sh $(PACKAGES)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: the showcase traces, then every suite.
run: build
	@./tools/showcase.sh $(BUILD)/ringcore
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRC_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  RC_QUICK=1 ctest --output-on-failure -j $(JOBS)

bench: build
	@$(BUILD)/rc_bench
	@$(BUILD)/rc_bench_transitions

# libFuzzer target (clang); FUZZ_SECONDS bounds the run.
FUZZ_SECONDS ?= 60
fuzz: deps
	@./tools/deps.sh $(FUZZ_PACKAGES)
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target rc_fuzz
	@mkdir -p build-fuzz/corpus
	@build-fuzz/rc_fuzz -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus tests/fuzz/seeds

# The live judges over the whole corpus (docs/vectors.md "Live judges"):
# the host CPU at ring 3, Unicorn, and QEMU (TCG) through the test kernel
# (tests/kernel; ~0.35 s a vector, ~5 min) and Bochs (~0.6 s a vector, ~10 min).
# Differences: docs/oracle-disagreements.md.
judges: build
	@$(BUILD)/ringcore vectors check --oracle native tests/vectors
	@$(BUILD)/ringcore vectors check --oracle unicorn tests/vectors
	@$(BUILD)/ringcore vectors check --oracle qemu tests/vectors || \
	  echo "judges: QEMU's known departures from the manuals: docs/oracle-disagreements.md"
	@$(BUILD)/ringcore vectors check --oracle bochs tests/vectors || \
	  echo "judges: Bochs' known departures from the manuals: docs/oracle-disagreements.md"

# The ring-0 vectors (those that start at CPL 0) against QEMU and Bochs only.
judges-ring0: build
	@$(BUILD)/ringcore vectors check --oracle qemu --cpl 0 tests/vectors || \
	  echo "judges-ring0: QEMU's known departures from the manuals: docs/oracle-disagreements.md"
	@$(BUILD)/ringcore vectors check --oracle bochs --cpl 0 tests/vectors || \
	  echo "judges-ring0: Bochs' known departures from the manuals: docs/oracle-disagreements.md"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
