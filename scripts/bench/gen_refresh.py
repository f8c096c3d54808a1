# A national refresh file: every household's latest score moved by a deterministic step in
# [-0.4, +0.4] (default: computed 2026-10-25, valid from 2026-11-01). Reproducible with
# PYTHONHASHSEED fixed. A later round takes later dates and a round number, which salts the step,
# so each round moves households differently.
# Usage: PYTHONHASHSEED=7 python3 gen_refresh.py NATIONAL.db OUT.csv [VALID_FROM COMPUTED_ON ROUND]
import datetime, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
out = open(sys.argv[2], "w")
out.write("rsu_id,score,computed_on,valid_from\n")
n = 0
q = "SELECT household_id, value_millionths FROM score_history s WHERE valid_from = (SELECT max(valid_from) FROM score_history t WHERE t.household_id = s.household_id)"
args = sys.argv[3:6] if len(sys.argv) > 5 else ["2026-11-01", "2026-10-25", None]
valid, computed = (datetime.date.fromisoformat(d) for d in args[:2])
salt = None if args[2] is None else int(args[2])
seen = set()
for hid, v in db.execute(q):
    if hid in seen:
        continue
    seen.add(hid)
    step = (hash(hid if salt is None else (hid, salt)) % 800_001) - 400_000
    v = max(0, v + step)
    out.write(f"{hid},{v // 1_000_000}.{v % 1_000_000:06d},{computed},{valid}\n")
    n += 1
print(n, file=sys.stderr)
