/** IPC channel names shared by main/preload.ts and main/ipc.ts. */
export const INVOKE = {
  openProject: 'aps:open-project',
  readProjectFile: 'aps:read-project-file',
  saveProject: 'aps:save-project',
  listExamples: 'aps:list-examples',
  openExample: 'aps:open-example',
  exportFile: 'aps:export-file',
  importData: 'aps:import-data',
  listRecent: 'aps:list-recent',
  openRecent: 'aps:open-recent',
  clearRecent: 'aps:clear-recent',
  setTitle: 'aps:set-title',
  startEngine: 'aps:start-engine',
  postToEngine: 'aps:post-to-engine',
  stopEngine: 'aps:stop-engine',
  /** The renderer listens for onProjectOpened; projects opened before that are delivered now. */
  projectListenerReady: 'aps:project-listener-ready',
} as const;

/** Main -> renderer events. */
export const EVENT = {
  engineEvent: 'aps:engine-event',
  menuCommand: 'aps:menu-command',
  projectOpened: 'aps:project-opened',
} as const;
