"""The lesson browser: every lesson in order, its exercises and their status."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static, Tree
from textual.widgets.tree import TreeNode

from tutor import present as fmt
from tutor.app.messages import OpenEntry
from tutor.app.widgets.footer import Footer
from tutor.errors import LessonError
from tutor.i18n import _
from tutor.lessons import Exercise, Lesson
from tutor.session import Session, StatusBoard
from tutor.session.status import MARKS
from tutor.workspace.store import StatusLabel

Entry = Lesson | Exercise | LessonError

MARK_COLOURS: dict[StatusLabel, str] = {"passed": "success", "visible checks pass": "success", "failed": "error",
                "not started": "foreground-muted"}


class LessonTree(Tree[Entry]):
    """Lessons, each folding out its exercises; broken lesson files at the end."""

    DEFAULT_CSS = "LessonTree { height: 1fr; }"


class LessonListScreen(Screen[None]):
    """The first screen: pick a lesson or an exercise."""

    BINDINGS = [
        Binding("q", "app.quit", "Quit"),
        Binding("slash", "app.search", "Search"),
        Binding("question_mark", "app.help", "Help"),
        Binding("space", "toggle", "Fold", show=False),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Header(icon=fmt.narrow("⭘"))
        tree = LessonTree("lessons", id="lessons")
        tree.show_root = False
        tree.auto_expand = False
        tree.guide_depth = 2
        yield tree
        yield Static(id="details", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.fill()
        tree = self.query_one(LessonTree)
        tree.focus()
        if tree.root.children:
            tree.move_cursor(tree.root.children[0])
        self.show_last_visit()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.refresh_labels()
            self.show_last_visit()

    def show_last_visit(self) -> None:
        """Put the cursor on the lesson or exercise the learner was on last (unfolding
        its lesson), so the list opens where they are."""
        visit = self.session.last_visit()
        if visit is None:
            return
        tree = self.query_one(LessonTree)
        for node in tree.root.children:
            lesson = node.data
            if not isinstance(lesson, Lesson):
                continue
            if visit.kind == "lesson" and lesson.id == visit.id:
                tree.move_cursor(node)
                return
            for child in node.children:
                if isinstance(child.data, Exercise) and child.data.id == visit.id:
                    node.expand()
                    tree.move_cursor(child)
                    return

    @property
    def board(self) -> StatusBoard:
        return self.session.board()

    def _colour(self, status: StatusLabel) -> str:
        return self.app.theme_variables.get(MARK_COLOURS[status], "")

    def _lesson_label(self, lesson: Lesson, board: StatusBoard) -> Text:
        done, total = board.lesson_progress(lesson)
        label = Text(f"{lesson.order:>2}. {lesson.title}")
        if total:
            colour = self._colour("passed") if done == total else self._colour("not started")
            label.append("  " + _("{done}/{total} passed").format(done=done, total=total), style=colour)
            visible = board.visible_only(lesson)
            if visible:
                label.append(fmt.sep() + _("{n} visible only").format(n=visible), style=self._colour("not started"))
        return label

    def _exercise_label(self, exercise: Exercise, board: StatusBoard) -> Text:
        status = board.label(exercise)
        label = Text(fmt.narrow(MARKS[status]) + " ", style=self._colour(status))
        label.append(_("exercise: {title}").format(title=exercise.title))
        label.append("  " + fmt.status_word(status), style=self._colour(status))
        return label

    def fill(self) -> None:
        """Build the tree from the lessons; the first lesson starts unfolded."""
        lessons = self.session.lessons
        tree = self.query_one(LessonTree)
        tree.clear()
        board = self.board
        for n, lesson in enumerate(lessons.lessons):
            node = tree.root.add(
                self._lesson_label(lesson, board), data=lesson, expand=n == 0, allow_expand=bool(lesson.exercises)
            )
            for exercise in lesson.exercises:
                node.add_leaf(self._exercise_label(exercise, board), data=exercise)
        for error in lessons.errors:
            label = Text("⚠ " + _("broken: "), style=self._colour("failed"))
            label.append(f"{error.path.name}:{error.line}: {error.message}")
            tree.root.add_leaf(label, data=error)
        if not lessons.lessons and not lessons.errors:
            tree.root.add_leaf(Text(_("no lessons found")), data=None)

    def refresh_labels(self) -> None:
        """Statuses change while the learner works; labels follow without a rebuild."""
        board = self.board
        for node in self.query_one(LessonTree).root.children:
            if isinstance(node.data, Lesson):
                node.set_label(self._lesson_label(node.data, board))
                for child in node.children:
                    if isinstance(child.data, Exercise):
                        child.set_label(self._exercise_label(child.data, board))
        self._describe(self.query_one(LessonTree).cursor_node)

    def action_toggle(self) -> None:  # type: ignore[override]  # Screen's takes an attribute; ours folds the node
        node = self.query_one(LessonTree).cursor_node
        if node is not None and node.allow_expand:
            node.toggle()

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Entry]) -> None:
        self._describe(event.node)

    def _describe(self, node: TreeNode[Entry] | None) -> None:
        data = node.data if node else None
        details = self.query_one("#details", Static)
        if isinstance(data, Lesson):
            done, total = self.board.lesson_progress(data)
            summary = _("{title}: {summary}").format(title=data.title, summary=data.summary) if data.summary else data.title
            text = summary + "\n" + fmt.sep().join((fmt.count(len(data.snippets), "cell"),
                                                    _("{exercises}, {done} passed").format(exercises=fmt.count(total, "exercise"), done=done),
                                                    _("enter: open")))
        elif isinstance(data, Exercise):
            state = self.board.state(data)
            checks = fmt.count(len(data.visible_checks), "check")
            hidden = data.hidden_count
            if hidden:
                checks += _(" (+{n} hidden)").format(n=hidden)
            text = f"{data.id}: " + fmt.sep().join((fmt.status_word(state.label), checks,
                                                    _("{seen}/{total} hints seen").format(seen=state.hints_shown, total=len(data.hints)),
                                                    _("enter: open")))
        elif isinstance(data, LessonError):
            text = data.msg + "\n" + _("Fix the file and restart tutor; `tutor check-lessons` lists every problem.")
        else:
            text = ""
        details.update(Text(text))

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Entry]) -> None:
        self.post_message(OpenEntry(event.node.data))
