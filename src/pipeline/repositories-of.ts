import type { ImageOutcome } from '../plan/image-outcome.js';

export interface RepositoryImages {
  registry: string;
  repository: string;
  images: ImageOutcome[];
}

/** The listed images grouped by registry and repository, in list order. */
export function repositoriesOf(images: ImageOutcome[]): RepositoryImages[] {
  const groups = new Map<string, RepositoryImages>();
  for (const image of images) {
    const key = `${image.ref.registry}/${image.ref.repository}`;
    const group = groups.get(key) ?? { registry: image.ref.registry, repository: image.ref.repository, images: [] };
    group.images.push(image);
    groups.set(key, group);
  }
  return [...groups.values()];
}
