import type { ImageReference } from '../list/image-reference.js';

/** How a listed tag is removed. */
export type RemovalMethod =
  /** DELETE by digest: the manifest goes, with every tag on it (all of them listed). */
  | 'manifest-delete'
  /** DELETE by tag (distribution 3.x / OCI 1.1): just that tag. */
  | 'tag-delete'
  /** The tag's directory removed from storage (what 3.x does): just that tag. */
  | 'storage-tag-remove'
  /** A unique throwaway manifest pushed to the tag, then deleted by digest: just that tag. */
  | 'throwaway-manifest';

export type ImageStatus = 'pending' | 'absent' | 'deleted' | 'failed' | 'skipped';

/** The fate of one listed image, filled in as the pipeline goes. */
export interface ImageOutcome {
  /** Canonical reference, as listed. */
  image: string;
  ref: ImageReference;
  source: { file: string; line: number };
  status: ImageStatus;
  /** The manifest digest the tag pointed at (or the listed digest). */
  digest?: string;
  method?: RemovalMethod;
  /** Other tags on the same digest, which stay. */
  keptTags?: string[];
  /** For a digest reference: the tags that went with the manifest. */
  removedTags?: string[];
  /** Why it failed, was skipped (kept by a plugin's rule) or is absent. */
  reason?: string;
}

/** Records a final outcome; `reason` says why it is absent or failed (or a detail of a deletion). */
export function settle(image: ImageOutcome, status: Exclude<ImageStatus, 'pending'>, reason?: string): void {
  image.status = status;
  if (reason !== undefined) image.reason = reason;
}
