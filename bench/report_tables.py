"""Tables of the benchmark reports (format_*.py): plain text for the
terminal, markdown for the results files."""


def text_table(head, body):
    """Columns padded to their widest cell, a dashed line under the head."""
    widths = [max(len(str(r[i])) for r in [head] + body)
              for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(head, body):
    """A markdown table."""
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
    return "\n".join(lines)
