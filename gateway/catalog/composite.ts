// Two catalogs served as one: the Triton-style model repository (bare names)
// and the registry (keys `<tenant>/<model>`). A name with a '/' belongs to
// the registry, any other to the repository; the filesystem catalog refuses
// such names itself, so the two never claim the same name.
import type { CatalogListener, CatalogModel, ModelCatalog } from './port';

export class CompositeCatalog implements ModelCatalog {
  readonly kind = 'repository+registry';

  constructor(
    private readonly repository: ModelCatalog,
    private readonly registry: ModelCatalog,
  ) {}

  private pick(name: string): ModelCatalog {
    return name.includes('/') ? this.registry : this.repository;
  }

  async listModels(): Promise<string[]> {
    const [a, b] = await Promise.all([this.repository.listModels(), this.registry.listModels()]);
    return [...a, ...b];
  }

  readModel(name: string): Promise<CatalogModel | null> {
    return this.pick(name).readModel(name);
  }

  subscribe(listener: CatalogListener): () => void {
    const offA = this.repository.subscribe(listener);
    const offB = this.registry.subscribe(listener);
    return () => {
      offA();
      offB();
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.repository.close(), this.registry.close()]);
  }
}
