"""nbconvert's ExecutePreprocessor, made to keep all of the Deno kernel's output.

Deno's Jupyter kernel (2.9) publishes `console.log` output from a separate task, which can lag behind the
kernel's `status: idle` message. Interactive frontends show such late output anyway; nbclient stops
listening at `idle` and drops it, so a headless run randomly loses the last lines a cell prints. This
preprocessor, after each cell, keeps reading the kernel's output for a short grace period and records what
still belongs to that cell.

Used by `notebooks/build.ts` and `test/notebooks_test.ts`:

    PYTHONPATH=notebooks jupyter nbconvert --to notebook \
      --Exporter.preprocessors='["deno_execute.DenoExecutePreprocessor"]' \
      --ExecutePreprocessor.kernel_name=deno notebooks/01_tokenizer.ipynb
"""
import queue

from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellExecutionComplete
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Float


class DenoExecutePreprocessor(ExecutePreprocessor):
    """Executes every cell like ExecutePreprocessor, then collects the cell's late output."""

    grace_period = Float(
        0.5,
        help="Seconds without any message from the kernel after which a cell's output is complete.",
    ).tag(config=True)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.grace_period))
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    pass
