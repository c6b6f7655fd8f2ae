// Records a run's statechart inspection events to a JSON-lines file, then reads it back.
// Run: npm run build && node examples/inspect-record.js
import { TaskEngine } from 'taskchart';
import { readInspection, recordInspection } from 'taskchart/inspect';

const recorder = recordInspection('run.inspect.jsonl');
const engine = new TaskEngine({ inspect: recorder.inspect });

engine.registerTask({ id: 'fetch', name: 'fetch', fn: () => 'data' });
engine.registerTask({ id: 'parse', name: 'parse', dependencies: ['fetch'], fn: () => 42 });
engine.startTask('fetch');
engine.startTask('parse');
await engine.waitForTask('parse');
await engine.shutdown();
await recorder.close(); // writes what is queued and closes the file

for await (const line of readInspection('run.inspect.jsonl')) {
  if (line.type === '@xstate.snapshot' && line.taskId) {
    console.log(line.seq, line.taskId, JSON.stringify(line.snapshot.value), line.event.type);
  }
}
