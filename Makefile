# Top-level build. `make` builds criu/criu; `make demo` and `make test`
# first install what is missing (scripts/install-deps.sh).

CC		?= gcc
OPT		?= -O2
CFLAGS		+= $(OPT) -g -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
		   -Wno-sign-compare -Wno-missing-field-initializers -fno-strict-aliasing
CPPFLAGS	+= -Icriu/include -Icompel/include -Iimages/gen -Icriu/pie/gen -Iinclude -I/usr/include/libnl3
LDLIBS		+= -lprotobuf-c -lcap -lnl-3 -lnftables -lxxhash -lpthread
PROTOC		?= protoc-c
PREFIX		?= /usr/local

PROTOS		:= $(wildcard images/*.proto)
PB_SRCS		:= $(patsubst images/%.proto,images/gen/%.pb-c.c,$(PROTOS))
PB_HDRS		:= $(PB_SRCS:.c=.h)
CRIU_SRCS	:= $(wildcard criu/*.c) $(wildcard compel/lib/*.c)
CRIU_OBJS	:= $(CRIU_SRCS:.c=.o) $(PB_SRCS:.c=.o)

# Freestanding, position-independent blobs run inside other processes.
PIE_CFLAGS	:= -O2 -g -D_GNU_SOURCE -fpie -ffreestanding -nostdlib -fno-builtin \
		   -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
		   -fvisibility=hidden -fno-jump-tables -mno-red-zone -mgeneral-regs-only -fcf-protection=none \
		   -Wall -Wno-unused-parameter -Icriu/include -Icriu/pie -Icompel/include
PIE_LDFLAGS	:= -pie --no-dynamic-linker -z noexecstack -z norelro -Bsymbolic \
		   --hash-style=gnu -T criu/pie/pie.lds
BLOBS		:= parasite restorer
BLOB_HDRS	:= $(patsubst %,criu/pie/gen/%-blob.h,$(BLOBS))

all: criu/criu

images/gen/%.pb-c.c images/gen/%.pb-c.h: images/%.proto
	@mkdir -p images/gen
	$(PROTOC) --proto_path=images --c_out=images/gen $<

compel/compel-blob: compel/blob/compel-blob.c
	$(CC) -O2 -g -Wall -Icompel/include -o $@ $<

criu/pie/%.pie.o: criu/pie/%.c $(wildcard criu/pie/*.h) $(wildcard criu/include/*-args.h)
	$(CC) $(PIE_CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
criu/pie/gen/%.elf: $$(addsuffix .pie.o,$$(basename $$(wildcard criu/pie/$$*.c criu/pie/$$*-*.c))) criu/pie/pie-lib.pie.o criu/pie/pie.lds
	@mkdir -p criu/pie/gen
	$(LD) $(PIE_LDFLAGS) --no-warn-rwx-segments -o $@ $(filter %.o,$^)

criu/pie/gen/%-blob.h: criu/pie/gen/%.elf compel/compel-blob
	compel/compel-blob $< $@ $*

$(CRIU_OBJS): | $(PB_HDRS) $(BLOB_HDRS)

%.o: %.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

criu/criu: $(CRIU_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(CRIU_OBJS:.o=.d)

# libFuzzer targets (clang): criu's code built again with the fuzzer's
# instrumentation and AddressSanitizer, main.c left out. fuzz_image.c is
# built once per image file it fuzzes (FUZZ_FILE).
FUZZ_CC		?= clang
FUZZ_CFLAGS	:= -O1 -g -D_GNU_SOURCE -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer -Wno-unused-command-line-argument
FUZZ_OBJS	:= $(patsubst %.c,test/fuzz/obj/%.o,$(filter-out criu/main.c,$(CRIU_SRCS)) $(PB_SRCS))
FUZZ_IMAGES	:= core:core- mm:mm- pagemap:pagemap- pstree:pstree.img files:files.img fdinfo:fdinfo- \
		   fs:fs- inventory:inventory.img checksums:checksums.img
FUZZ_BINS	:= $(foreach t,$(FUZZ_IMAGES),test/fuzz/bin/fuzz_$(firstword $(subst :, ,$(t)))) test/fuzz/bin/fuzz_vdso

test/fuzz/obj/%.o: %.c | $(PB_HDRS) $(BLOB_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

define fuzz_image_rule
test/fuzz/bin/fuzz_$(1): test/fuzz/fuzz_image.c $(FUZZ_OBJS)
	@mkdir -p $$(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_FILE='"$(2)"' -o $$@ $$< $(FUZZ_OBJS) $(LDLIBS)
endef
$(foreach t,$(FUZZ_IMAGES),$(eval $(call fuzz_image_rule,$(firstword $(subst :, ,$(t))),$(lastword $(subst :, ,$(t))))))

test/fuzz/bin/fuzz_vdso: test/fuzz/fuzz_vdso.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

fuzz-build: all $(FUZZ_BINS)

# Each target for FUZZ_SECONDS (default 60) from the images of a fresh dump and of the tests.
fuzz: deps
	$(MAKE) fuzz-build
	$(MAKE) -C test all
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} python3 test/zdtm.py run $(addprefix -t ,$(notdir $(FUZZ_BINS)))

deps:
	scripts/install-deps.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

test: deps
	$(MAKE) all
	$(MAKE) fuzz-build
	$(MAKE) -C test all
	FUZZ_SECONDS=$${FUZZ_SECONDS:-10} python3 test/zdtm.py run --all

bench: deps
	$(MAKE) all
	$(MAKE) -C test all
	python3 test/bench.py

install: all
	install -D -m 755 criu/criu $(DESTDIR)$(PREFIX)/sbin/criu

clean:
	rm -f criu/criu compel/compel-blob $(CRIU_OBJS) $(CRIU_OBJS:.o=.d) criu/pie/*.o
	rm -rf images/gen criu/pie/gen test/fuzz/obj test/fuzz/bin
	-$(MAKE) -C test clean

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

.PHONY: all deps demo test bench install clean format fuzz fuzz-build
.SECONDARY:
