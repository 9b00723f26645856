import { datasetInfo, modelInfo, spaceInfo } from '@huggingface/hub';
import { COMMIT_SHA } from './cache-layout.js';
import { HubRequestError } from './hub-errors.js';
import type { HubSession } from './hub-session.js';

/**
 * The commit a branch or tag points to, in one request. Resolving first keeps
 * every file of a load in one `snapshots/<commit>` folder (the client alone
 * would file each under the last commit that touched it).
 */
export async function resolveRevision(session: HubSession, revision: string): Promise<string> {
  const params = { ...session.params, name: session.repo.id.name, revision, additionalFields: ['sha' as const] };
  const info = await session.metadata(revision, async (): Promise<{ sha?: unknown }> => {
    switch (session.repo.id.type) {
      case 'dataset':
        return datasetInfo(params);
      case 'space':
        return spaceInfo(params);
      default:
        return modelInfo(params);
    }
  });
  if (typeof info.sha !== 'string' || !COMMIT_SHA.test(info.sha)) {
    throw new HubRequestError(`The Hub at ${session.config.hubUrl} gave no commit sha for ${session.repo.designation}@${revision}; is HF_ENDPOINT a Hugging Face Hub?`);
  }
  return info.sha;
}
