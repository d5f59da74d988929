// Prints one plain closing line, "tests: N passed, N failed", that CI reads as the run's verdict.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // A file that fails outside its tests (an error in a hook, an unhandled error) counts as failed too.
    const broken = results.testResults.filter((file) => file.numFailingTests === 0 && (file.testExecError || file.failureMessage)).length;
    const line =
      `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed` +
      (skipped ? `, ${skipped} skipped` : '') +
      (broken ? `; ${broken} test file(s) failed to run` : '');
    process.stdout.write(`\n${line}\n`);
  }
}
module.exports = SummaryReporter;
