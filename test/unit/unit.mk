# test/unit/unit.mk: how every C unit test is built, included by
# test/unit/Makefile and producer/Makefile.  Each UNIT_DIR/NAME_test.c
# becomes two programs: UNIT_BUILD/NAME_test, and UNIT_BUILD/NAME_asan_test
# built with AddressSanitizer and UBSan.  Both use the one harness, tap.h
# (next to this file), and test/unit/run.sh runs them.
#
# The including Makefile sets, before including this:
#   UNIT_DIR        where the *_test.c are
#   UNIT_BUILD      where the test programs go
#   UNIT_CPPFLAGS   -I flags for the code under test
#   UNIT_LINK       the code under test (objects or an archive), built
#                   normally; UNIT_ASAN_LINK the same built with $(SANITIZE)
#   UNIT_LDLIBS     the libraries it needs
# and CFLAGS (the warnings: -Wall -Wextra -Werror).
#
#   make unit        build the NAME_test programs
#   make unit-asan   build the NAME_asan_test programs
#   make unit-list   print the NAME_test programs' paths, one a line

TAP_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

SANITIZE = -fsanitize=address,undefined,float-cast-overflow \
	-fno-sanitize-recover=all -fno-omit-frame-pointer

UNIT_TESTS = $(patsubst $(UNIT_DIR)/%.c,$(UNIT_BUILD)/%,$(wildcard $(UNIT_DIR)/*_test.c))
UNIT_ASAN_TESTS = $(UNIT_TESTS:_test=_asan_test)

$(UNIT_BUILD)/%_test: $(UNIT_DIR)/%_test.c $(TAP_DIR)/tap.h $(UNIT_LINK)
	$(CC) $(CPPFLAGS) $(UNIT_CPPFLAGS) -I$(TAP_DIR) $(CFLAGS) -o $@ $< $(UNIT_LINK) $(UNIT_LDLIBS)

$(UNIT_BUILD)/%_asan_test: $(UNIT_DIR)/%_test.c $(TAP_DIR)/tap.h $(UNIT_ASAN_LINK)
	$(CC) $(CPPFLAGS) $(UNIT_CPPFLAGS) -I$(TAP_DIR) $(CFLAGS) $(SANITIZE) -o $@ $< $(UNIT_ASAN_LINK) $(UNIT_LDLIBS)

# Objects of the code under test are kept, not deleted as intermediate.
.SECONDARY: $(UNIT_LINK) $(UNIT_ASAN_LINK)

unit: $(UNIT_TESTS)

unit-asan: $(UNIT_ASAN_TESTS)

unit-list:
	@printf '%s\n' $(UNIT_TESTS)

.PHONY: unit unit-asan unit-list
