/**
 * UTS #39 §4 skeletons: two identifiers are confusable when their skeletons are equal, so storing
 * the skeleton under a UNIQUE index keeps `cop` (Latin) and `сор` (Cyrillic), or `modern` and
 * `rnodern`, from both existing.
 *
 * skeleton(X) = NFD(map(NFD(X))), where map replaces each character by its prototype from the
 * Unicode confusables table (confusables.txt). The table comes from the `unhomoglyph` package
 * (confusables.txt v13.0.0 as JSON, MIT, no dependencies, no eval: one RegExp built at module load);
 * nothing is fetched at run time. Newer Unicode versions add a few mappings; moving to a newer
 * table changes skeletons, so it would need a recomputation like the one in src/db/usernames.ts.
 */
import unhomoglyph from "unhomoglyph";

export function skeleton(identifier: string): string {
  return unhomoglyph(identifier.normalize("NFD")).normalize("NFD");
}
