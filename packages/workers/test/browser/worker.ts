/** The page's worker script: serves the bundled task module. */
import { serveTasks } from '@unseen/workers/worker';
import { browserTasks } from './tasks.js';

serveTasks(browserTasks);
