"""Kinds of note beyond question-and-answer: type-in answers and Image Occlusion on an image from media/."""
