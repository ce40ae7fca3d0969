import type { ImageOutcome, RemovalMethod } from './image-outcome.js';

/** DELETE one manifest by digest: removes it and every tag on it. */
export interface DeleteManifestAction {
  kind: 'delete-manifest';
  registry: string;
  repository: string;
  digest: string;
  /** A multi-arch index: deleted before any manifest, so a failure never leaves it without a child. */
  isIndex: boolean;
  /** Every tag that goes with it (all of them listed, or the manifest was listed by digest). */
  tags: string[];
  /** The listed images this one request satisfies. */
  images: ImageOutcome[];
}

/** Remove exactly one tag; its manifest stays for the tags (or indexes) that still use it. */
export interface RemoveTagAction {
  kind: 'remove-tag';
  registry: string;
  repository: string;
  tag: string;
  digest: string;
  method: Exclude<RemovalMethod, 'manifest-delete'>;
  keptTags: string[];
  image: ImageOutcome;
}

export type DeletionAction = DeleteManifestAction | RemoveTagAction;
