"""A generated file kept checked in, with its upkeep targets."""

_SCRIPT = "//bazel/private/tools:checked_in.sh"

def checked_in_file(name, generated, src, test_tags = [], test_size = "small"):
    """`src` (a file of this package) is a checked-in copy of the generated file target
    `generated`:

      <name>_update   `bazel run` it to rewrite `src` from `generated`
      <name>_test     fails while `src` differs from `generated`, naming the update
    """
    native.sh_binary(
        name = name + "_update",
        srcs = [_SCRIPT],
        args = ["update", "$(rootpath %s)" % generated, "%s/%s" % (native.package_name(), src)],
        data = [generated],
    )
    native.sh_test(
        name = name + "_test",
        size = test_size,
        srcs = [_SCRIPT],
        args = ["check", "$(rootpath %s)" % generated, "$(rootpath :%s)" % src,
                "//%s:%s_update" % (native.package_name(), name)],
        data = [generated, ":" + src],
        tags = test_tags,
    )
